// The reader-error notice: while any card reader is unplugged or failing (the reader_status events of
// kiosk/service.py, which also play the error light and sound), a calm banner says so and what still works;
// it goes when every reader is back. The server repeats each reader's state to a page that connects later.
(function () {
  "use strict";
  var K = window.Kiosk, banner = document.getElementById("reader-down");
  if (!banner || !K || !K.socket) { return; }
  var down = {};
  K.socket.on("reader_status", function (data) {
    if (!data || typeof data.reader_id !== "string") { return; }
    if (data.state === "connected") { delete down[data.reader_id]; } else { down[data.reader_id] = data.state; }
    banner.hidden = Object.keys(down).length === 0;
    K.app.classList.toggle("reader-down", !banner.hidden);
  });
})();
