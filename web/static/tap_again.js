// "Please tap again" after a misread card (the bad_read event: a frame that failed its checksum or format).
// The reader still works, so this is a short hint over whatever screen is up, not the reader-error banner;
// it goes after a few seconds or as soon as a card is read.
(function () {
  "use strict";
  var K = window.Kiosk, hint = document.getElementById("tap-again");
  if (!hint || !K || !K.socket) { return; }
  var SHOW_MS = 4000;
  var timer = null;
  // Touches the DOM only when the hint is up: it runs on every tap, before the balance is painted.
  function hide() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!hint.hidden) { hint.hidden = true; }
  }
  K.socket.on("bad_read", function () {
    hide();
    hint.hidden = false;
    timer = setTimeout(hide, SHOW_MS);
  });
  ["member", "unknown_card", "card_blocked", "card_refused", "enroll_card_bound", "enroll_card_taken",
   "pos_result", "staff_enter"].forEach(function (name) { K.socket.on(name, hide); });
})();
