// What the till asks of the kiosk's screen beyond tap-to-earn: a staff card to approve a big quote.
(function () {
  "use strict";
  var K = window.Kiosk;

  K.socket.on("till_approval", function (data) {
    if (K.staffActive) { return; }
    if (data.state === "waiting") { K.render("t-till-approval", { discount: data.discount_rial }, 120000); return; }
    if (data.state === "approved") {
      K.notice(K.msg("till_approved"), "", "ok");
      K.clearAfterShort();
    }
  });
})();
