// The reader-error notice: while any card reader is unplugged or failing (the reader_status events of
// kiosk/service.py, which also play the error light and sound), a calm banner says so and what still works;
// it goes when every reader is back. The server repeats each reader's state to a page that connects later.
(function () {
  "use strict";
  var K = window.Kiosk, banner = document.getElementById("reader-down");
  if (!banner || !K || !K.socket) { return; }
  var down = {};
  function show(readerId, state) {
    if (state === "connected") { delete down[readerId]; } else { down[readerId] = state; }
    banner.hidden = Object.keys(down).length === 0;
    K.app.classList.toggle("reader-down", !banner.hidden);
  }
  // States that arrived before this script ran (kiosk.js keeps them), then every change.
  Object.keys(K.readerStates || {}).forEach(function (id) { show(id, K.readerStates[id]); });
  K.socket.on("reader_status", function (data) {
    if (!data || typeof data.reader_id !== "string") { return; }
    show(data.reader_id, data.state);
  });
})();
