// Complaints and requests (issue 14): phone, subject, text (picked or typed), then a tracking code on screen;
// and following a request: the code, the phone's last four digits, then its state and the chain's answer.
// Everything a shopper or the chain wrote is painted with textContent: markup shows as text, never as HTML.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, stage = K.stage, msg = K.msg, fmt = K.fmt, render = K.render, post = K.post;
  var setError = K.setError, idleMs = K.idleMs;
  function st() { return K.state(); }
  K.addWork(["t-complaint-phone", "t-complaint-subject", "t-complaint-text", "t-track-code", "t-track-phone"]);
  var MAX_TEXT = 1000;

  var entry = document.getElementById("t-engagement-entry").content.cloneNode(true);
  document.querySelector("#attract").appendChild(entry);

  function newKey() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  handlers.complaint = function () {
    K.begin({ complaint: true, requestKey: newKey(), phone: "" });
    render("t-complaint-phone");
    K.entryKeypad("phone", 15);
  };
  handlers["complaint-phone-next"] = function () {
    if ((st().phone || "").length < 7) { setError(msg("invalid_phone")); return; }
    post("/api/complaints/subjects", { lang: K.lang }).then(function (r) {
      if (!r.ok) { setError(msg("error")); return; }
      MAX_TEXT = r.data.max_text || MAX_TEXT;
      var root = render("t-complaint-subject");
      var list = root.querySelector(".subjects");
      r.data.subjects.forEach(function (subject) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = subject.name;
        b.dataset.subject = subject.id;
        b.addEventListener("click", function () { st().subject = subject; writeText(); });
        list.appendChild(b);
      });
    });
  };

  function writeText() {
    var s = st();
    s.typed = s.typed || "";
    var root = render("t-complaint-text", {}, idleMs * 3);
    var out = root.querySelector(".complaint-text"), counter = root.querySelector("[data-field=counter]");
    function paint() {
      out.textContent = s.typed;
      counter.textContent = fmt(s.typed.length) + " / " + fmt(MAX_TEXT);
    }
    var picked = root.querySelector(".picked-texts");
    (s.subject.texts || []).forEach(function (text) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.addEventListener("click", function () { s.typed = text; paint(); });
      picked.appendChild(b);
    });
    KioskKeys.keyboard(root.querySelector(".keyboard"), K.lang, function (k) {
      if (k === "back") { s.typed = s.typed.slice(0, -1); }
      else if (s.typed.length < MAX_TEXT) { s.typed += k; }
      else { setError(msg("text_too_long", { n: fmt(MAX_TEXT) })); }
      paint();
      K.armIdle(idleMs * 3);
    });
    paint();
  }

  handlers["complaint-send"] = function () {
    var s = st();
    post("/api/complaints", { phone: s.phone, subject: s.subject.id, text: s.typed, request_key: s.requestKey,
                              lang: K.lang }).then(function (r) {
      if (r.ok) { K.begin({}); render("t-complaint-code", { code: r.data.code }, idleMs * 3); return; }
      if (r.status === 0) { setError(msg("try_again")); return; }  // the same key goes again: one complaint
      if (r.data.error === "invalid_phone") { render("t-complaint-phone"); K.entryKeypad("phone", 15); }
      setError(msg(r.data.error, { n: fmt(r.data.max_text || MAX_TEXT) }));
    });
  };

  // --- following a request -----------------------------------------------------------------------------
  handlers.track = function () {
    K.begin({ tracking: true, typed: "", last4: "" });
    var root = render("t-track-code", {}, idleMs * 2);
    var out = root.querySelector("[data-field=typed]");
    KioskKeys.keyboard(root.querySelector(".keyboard"), "en", function (k) {
      var s = st();
      if (k === "back") { s.typed = s.typed.slice(0, -1); } else if (s.typed.length < 11) { s.typed += k.toUpperCase(); }
      out.textContent = s.typed;
      K.armIdle(idleMs * 2);
    });
  };
  handlers["track-code-next"] = function () {
    var compact = (st().typed || "").replace(/[\s-]/g, "");
    if (compact.length !== 10) { setError(msg("invalid_code")); return; }
    render("t-track-phone");
    K.entryKeypad("last4", 4);
  };
  handlers["track-lookup"] = function () {
    var s = st();
    if (!/^[0-9]{4}$/.test(s.last4 || "")) { setError(msg("last4_format")); return; }
    post("/api/complaints/lookup", { code: s.typed, phone_last4: s.last4 }).then(function (r) {
      if (!r.ok) {
        var why = r.data.error === "lookup_rate_limited" || r.data.error === "lookup_offline" ? r.data.error
          : r.data.error === "invalid_code" ? "invalid_code" : "error";
        K.begin({}); K.notice(msg("error"), msg(why), "warn"); return;
      }
      if (!r.data.found) { K.begin({}); K.notice(msg("error"), msg("lookup_none"), "warn"); return; }
      var code = s.typed;
      K.begin({});
      var root = render("t-track-result", { code: code, state: msg("case_" + r.data.state),
                                            date: r.data.dates ? r.data.dates[K.lang] || "" : "",
                                            answer: r.data.answer }, idleMs * 2);
      root.querySelector(".case-answer").hidden = !r.data.answer;
    });
  };
})();
