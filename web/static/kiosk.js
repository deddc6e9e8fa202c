// The kiosk page: paints what the service pushes and forgets it after the idle timeout.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var idleMs = Number(app.dataset.idleTimeout) * 1000;
  var lang = app.dataset.lang;
  var numbers = new Intl.NumberFormat(lang === "fa" ? "fa-IR" : lang === "ar" ? "ar-EG" : "en-US");
  var idleTimer = null;

  function show(id) {
    document.querySelectorAll(".screen").forEach(function (el) {
      el.classList.toggle("active", el.id === id);
    });
  }

  function clearShopper() {
    // Remove every node that held shopper data, not just hide it.
    ["balance", "notice"].forEach(function (id) {
      document.getElementById(id).replaceChildren();
    });
    show("attract");
  }

  function armIdle() {
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(clearShopper, idleMs);
  }

  function fill(templateId, data) {
    var node = document.getElementById(templateId).content.cloneNode(true);
    node.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.dataset.field];
      el.textContent = typeof value === "number" ? numbers.format(value) : (value == null ? "" : String(value));
    });
    return node;
  }

  function paint(screenId, templateId, data) {
    var target = document.getElementById(screenId);
    target.replaceChildren(fill(templateId, data));
    show(screenId);
    armIdle();
  }

  // Polling only: the production server (waitress) cannot upgrade to WebSocket; see README.
  var socket = io({ transports: ["polling"] });
  socket.on("connect", function () { window.__kioskConnected = true; });
  socket.on("disconnect", function () { window.__kioskConnected = false; });
  socket.on("member", function (data) { paint("balance", "balance-template", data); });
  socket.on("unknown_card", function (data) { paint("notice", "unknown-template", data); });
  socket.on("card_blocked", function (data) { paint("notice", "blocked-template", data); });
  socket.on("card_refused", function (data) { paint("notice", "refused-template", data); });
  document.addEventListener("pointerdown", function () { if (idleTimer) { armIdle(); } });
})();
