// The birthday picker of the enrolment's extras step: day, month and year selects, each labelled, offering only
// the days the picked month has (31/30/29-or-30 in the Jalali calendar, the Gregorian lengths otherwise).
(function () {
  "use strict";

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  // Esfand has 30 days in a leap year: ask the browser's own Persian calendar (ICU) whether day 30 exists,
  // rather than an arithmetic rule that drifts from the official calendar.
  function jalaliLeap(y) {
    var f = new Intl.DateTimeFormat("en-u-ca-persian-nu-latn", { day: "numeric", month: "numeric", timeZone: "UTC" });
    for (var d = 17; d <= 22; d++) {
      var parts = f.formatToParts(new Date(Date.UTC(y + 622, 2, d)));
      var day = parts.filter(function (x) { return x.type === "day"; })[0].value;
      var month = parts.filter(function (x) { return x.type === "month"; })[0].value;
      if (month === "12" && day === "30") { return true; }
    }
    return false;
  }

  function daysIn(m, y, jalali) {
    if (!m) { return 31; }
    if (jalali) { return m <= 6 ? 31 : m <= 11 ? 30 : (jalaliLeap(y || 1403) ? 30 : 29); }
    return new Date(Date.UTC(y || 2000, m, 0)).getUTCDate();
  }

  // opts: jalali, year (this year in the calendar shown), locale, labels {d, m, y}, jalaliMonths (names),
  // digits (ASCII -> the page's digits), picked {d, m, y} (strings, "" for none), onChange(picked).
  function picker(root, opts) {
    var sel = {};
    var picked = { d: opts.picked.d || "", m: opts.picked.m || "", y: opts.picked.y || "" };
    ["d", "m", "y"].forEach(function (k) {
      sel[k] = root.querySelector('[data-bd="' + k + '"]');
      sel[k].replaceChildren(option("", opts.labels[k]));
    });
    var months = opts.jalali ? opts.jalaliMonths : Array.from({ length: 12 }, function (_, i) {
      return new Intl.DateTimeFormat(opts.locale, { month: "long", timeZone: "UTC" }).format(new Date(Date.UTC(2000, i, 1)));
    });
    months.forEach(function (name, i) { sel.m.appendChild(option(String(i + 1), name)); });
    for (var y = opts.year; y >= opts.year - 100; y--) { sel.y.appendChild(option(String(y), opts.digits(y))); }
    function paintDays() {
      var days = daysIn(Number(picked.m), Number(picked.y), opts.jalali);
      sel.d.replaceChildren(option("", opts.labels.d));
      for (var d = 1; d <= days; d++) { sel.d.appendChild(option(String(d), opts.digits(d))); }
      if (Number(picked.d) > days) { picked.d = ""; }
      sel.d.value = picked.d;
    }
    sel.m.value = picked.m;
    sel.y.value = picked.y;
    paintDays();
    ["d", "m", "y"].forEach(function (k) {
      sel[k].addEventListener("change", function () {
        picked[k] = sel[k].value;
        if (k !== "d") { paintDays(); }
        opts.onChange({ d: picked.d, m: picked.m, y: picked.y });
      });
    });
  }

  window.KioskBirthday = { picker: picker };
})();
