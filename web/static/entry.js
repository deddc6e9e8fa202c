// Typing on the touchscreen: the digit keypad and the letter keyboard of the sign-up and staff screens, and the
// birthday picker of the sign-up and the profile, as the API wants the date.
(function () {
  "use strict";
  var K = window.Kiosk, app = K.app, stage = K.stage, lang = K.lang, msg = K.msg, setError = K.setError, armIdle = K.armIdle;
  function st() { return K.state(); }

  function entryKeypad(field, max) {
    var out = stage.querySelector('[data-field="' + field + '"]');
    var value = st()[field] || "";
    function paint() { out.textContent = field === "pin" ? value.replace(/./g, "•") : toLocalDigits(value); }
    KioskKeys.keypad(stage.querySelector('.keypad[data-target="' + field + '"]'), lang, function (k) {
      if (k === "back") { value = value.slice(0, -1); } else if (value.length < max) { value += k; }
      st()[field] = value;
      paint();
      armIdle(K.screenMs());
    }, field === "phone");
    paint();
  }
  K.entryKeypad = entryKeypad;

  function toLocalDigits(text) {
    var d = KioskKeys.digits[lang] || KioskKeys.digits.en;
    return String(text).replace(/[0-9]/g, function (c) { return d[Number(c)]; });
  }

  // Text boxes are <output>s typed into by the on-screen keyboard; a tap on a box moves the cursor there.
  function entryKeyboard(ms) {
    var boxes = Array.prototype.slice.call(stage.querySelectorAll("[data-input]"));
    var current = boxes[0];
    var board = KioskKeys.keyboard(stage.querySelector(".keyboard"), current.dataset.layout || lang, function (k) {
      var name = current.dataset.input;
      var value = st()[name] || "";
      if (k === "back") { value = value.slice(0, -1); } else if (value.length < 40) { value += k; }
      st()[name] = value;
      current.textContent = value;
      autoShift();
      armIdle(ms || K.screenMs());
    });
    // A capital where one is usual: at the start, and after a space in a name; codes are typed as they are.
    function autoShift() {
      var value = st()[current.dataset.input] || "";
      var name = /name/.test(current.dataset.input);
      board.setShift(!current.dataset.layout && (value === "" || (name && / $/.test(value))));
    }
    boxes.forEach(function (box) {
      box.textContent = st()[box.dataset.input] || "";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "textbox");
      box.addEventListener("click", function () { focusBox(box); });
    });
    function focusBox(box) {
      current = box;
      boxes.forEach(function (b) { b.classList.toggle("focused", b === box); });
      board.use(box.dataset.layout || lang);
      autoShift();
    }
    focusBox(current);
  }
  K.entryKeyboard = entryKeyboard;

  // The day, month and year pickers of a birthday (Jalali months in fa when the shop's calendar is Jalali).
  function birthdaySelects() {
    var jalali = lang === "fa" && app.dataset.calendar === "jalali";
    KioskBirthday.picker(stage, {
      jalali: jalali, year: Number(app.dataset.thisYear) - (jalali ? 621 : 0), locale: K.locale,
      labels: { d: msg("bd_day"), m: msg("bd_month"), y: msg("bd_year") }, digits: toLocalDigits,
      jalaliMonths: Array.prototype.map.call(document.querySelectorAll("#jalali-months li"), function (li) { return li.textContent; }),
      picked: { d: st().bd_d, m: st().bd_m, y: st().bd_y },
      onChange: function (picked) {
        st().bd_d = picked.d; st().bd_m = picked.m; st().bd_y = picked.y;
        setError("");
        armIdle();
      }
    });
    st().jalali = jalali;
  }
  // The picked birthday as the API wants it: {birthday} (ISO) or {birthday_jalali} (y, m, d), or neither.
  function pickedBirthday() {
    if (!(st().bd_y && st().bd_m && st().bd_d)) { return { birthday: null, birthday_jalali: null }; }
    if (st().jalali) { return { birthday: null, birthday_jalali: { y: Number(st().bd_y), m: Number(st().bd_m), d: Number(st().bd_d) } }; }
    return { birthday: [st().bd_y, ("0" + st().bd_m).slice(-2), ("0" + st().bd_d).slice(-2)].join("-"), birthday_jalali: null };
  }

  K.entryKeypad = entryKeypad; K.entryKeyboard = entryKeyboard; K.toLocalDigits = toLocalDigits;
  K.birthdaySelects = birthdaySelects; K.pickedBirthday = pickedBirthday;
})();
