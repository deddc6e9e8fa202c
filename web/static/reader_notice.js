// The reader-error notice: while any card reader is unplugged or failing (the reader_status events of
// kiosk/service.py, which also play the error light and sound), a calm banner says so and what still works;
// it goes when every reader is back. The server repeats each reader's state to a page that connects later.
(function () {
  "use strict";
  var K = window.Kiosk, banner = document.getElementById("reader-down");
  if (!banner || !K || !K.socket) { return; }
  // The page core keeps each reader's last state (K.readerStates, updated by its own handler, which runs
  // first); the banner is derived from it: at load (states sent before this script ran) and on every change.
  function render() {
    var states = K.readerStates || {};
    banner.hidden = !Object.keys(states).some(function (id) { return states[id] !== "connected"; });
    K.app.classList.toggle("reader-down", !banner.hidden);
  }
  render();
  K.socket.on("reader_status", render);
})();
