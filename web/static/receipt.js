// A shopper claims a receipt's points: scan its QR, then tap a card or type the membership's phone.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, msg = K.msg, fmt = K.fmt, render = K.render, post = K.post, explain = K.explain, notice = K.notice;
  var setError = K.setError, armIdle = K.armIdle, idleMs = K.idleMs;
  function st() { return K.state(); }

  handlers.receipt = function () {
    K.begin({ receipt: true });
    var root = render("t-receipt-scan");
    var input = root.querySelector(".scan-input");
    input.focus();
    // A QR scanner is a keyboard: it types the code and presses Enter.
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      var code = input.value;
      input.value = "";
      post("/api/receipt", { code: code }).then(function (r) {
        if (!r.ok) { setError(explain(r.data)); input.focus(); armIdle(); return; }
        st().receiptCode = code;
        render("t-receipt-tap", { points: r.data.points }, idleMs * 3);
      });
    });
  };

  // No card at hand: the receipt's points go to the membership of a typed number (named nowhere on screen).
  handlers["receipt-phone"] = function () {
    st().phone = "";
    render("t-receipt-phone");
    K.entryKeypad("phone", 15);
  };
  handlers["receipt-phone-ok"] = function () {
    post("/api/receipt/phone", { code: st().receiptCode, phone: st().phone || "" }).then(function (r) {
      if (!r.ok) { setError(explain(r.data)); return; }
      K.begin({});
      notice(msg("earned", { n: fmt(r.data.points_earned) }), msg("receipt_added", { n: fmt(r.data.points_earned) }), "ok");
      K.clearAfterShort();
    });
  };
})();
