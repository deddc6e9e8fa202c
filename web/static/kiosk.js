// The kiosk page: paints what the service pushes, runs the shopper flows, and forgets everything after each
// finished action and after the idle timeout. No inline script: the CSP allows only files from 'self'.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var stage = document.getElementById("stage");
  var idleMs = Number(app.dataset.idleTimeout) * 1000;
  // Signing up takes longer than glancing at a balance: its screens have the chain's own, longer time-out.
  var enrolMs = Number(app.dataset.enrolTimeout) * 1000 || idleMs;
  var ENROL = ["t-phone", "t-code", "t-existing", "t-names", "t-extras", "t-consent", "t-bind"];
  var lang = app.dataset.lang;
  var defaultLang = app.dataset.defaultLang;
  var csrf = app.dataset.csrf;
  var locale = lang === "fa" ? "fa-IR" : lang === "ar" ? "ar-EG" : "en-US";
  var numbers = new Intl.NumberFormat(locale);
  var idleTimer = null;
  var warnTimer = null;     // the "still there?" countdown in the last WARN_MS of every timeout
  var idleArmedMs = 0;
  var WARN_MS = 5000;
  var state = {};           // everything about the current shopper lives here and nowhere else
  var handlers = {};        // data-action name -> function(button)
  var K = window.Kiosk = { handlers: handlers };

  function msg(code, vars) {
    // #msgs holds the core's words; a later module's partial brings its own in a div.msgs.
    var el = document.querySelector('#msgs [data-msg="' + code + '"], .msgs [data-msg="' + code + '"]');
    var text = el ? el.textContent : code;
    Object.keys(vars || {}).forEach(function (k) { text = text.split("{" + k + "}").join(vars[k]); });
    return text;
  }

  function fmt(value) { return typeof value === "number" ? numbers.format(value) : (value == null ? "" : String(value)); }
  function signed(value) { return (value > 0 ? "+" : value < 0 ? "−" : "") + numbers.format(Math.abs(value)); }

  function show(id) {
    document.querySelectorAll(".screen").forEach(function (el) { el.classList.toggle("active", el.id === id); });
  }

  function armIdle(ms) {
    if (idleTimer) { clearTimeout(idleTimer); }
    if (warnTimer) { clearInterval(warnTimer); warnTimer = null; }
    stillThere.hidden = true;
    idleArmedMs = ms || idleMs;
    var endsAt = Date.now() + idleArmedMs;
    idleTimer = setTimeout(function () {
      // A screen that holds a shopper's data warns first, with a countdown and "I'm still here".
      if (!stage.dataset.screen || idleArmedMs <= WARN_MS * 2) { clearShopper(); return; }
      stillThere.hidden = false;
      function tick() {
        var left = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
        stillThere.querySelector("[data-field=seconds]").textContent = fmt(left);
        if (left <= 0) { clearShopper(); }
      }
      tick();
      warnTimer = setInterval(tick, 250);
    }, Math.max(0, idleArmedMs - (idleArmedMs > WARN_MS * 2 ? WARN_MS : 0)));
  }
  var stillThere = document.getElementById("still-there");
  handlers["still-here"] = function () { armIdle(idleArmedMs); };

  function fill(root, data) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(data, el.dataset.field)) { el.textContent = fmt(data[el.dataset.field]); }
    });
    return root;
  }

  // Success, warning and error screens look different (colour and icon), not only their words.
  var TONES = { "t-enrolled": "ok", "t-coupon": "ok", "t-blocked": "error", "t-existing-ask-staff": "warn",
                "t-unknown": "warn" };

  // Render one template as the whole stage: the previous screen's nodes are dropped, not hidden.
  function render(templateId, data, ms) {
    var node = document.getElementById(templateId).content.cloneNode(true);
    fill(node, data || {});
    stage.replaceChildren(node);
    stage.dataset.screen = templateId;
    stage.dataset.tone = TONES[templateId] || "";
    // Every touch on this screen restarts its own time-out, not the shortest one.
    ms = ms || (ENROL.indexOf(templateId) >= 0 ? enrolMs : idleMs);
    stage.dataset.ms = String(ms);
    closeAsk();
    show("stage");
    armIdle(ms);
    return stage;
  }

  function setError(text) {
    var el = stage.querySelector(".error");
    if (el) { el.textContent = text || ""; }
  }

  function clearShopper() {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
    if (warnTimer) { clearInterval(warnTimer); warnTimer = null; }
    stillThere.hidden = true;
    closeAsk();
    // A balance counts too: the server then knows nobody's balance is shown (no repaint after a reconcile).
    var hadFlow = !!(state.member || state.session || state.receipt || state.enrolling);
    generation += 1;
    state = {};
    stage.replaceChildren();
    delete stage.dataset.screen;
    show("attract");
    app.classList.remove("awake");
    if (hadFlow) { post("/api/reset", {}); }
    if (K.onClear) { K.onClear(); }
    if (lang !== defaultLang) {
      // The next shopper starts in the shop's language; replace() leaves no history entry behind.
      window.location.replace("/");
    }
  }

  // Bumped on every clear: an answer that arrives after its shopper left is dropped, never painted.
  var generation = 0;

  function post(url, data, extraHeaders) {
    var asked = generation;
    var headers = { "Content-Type": "application/json", "X-CSRFToken": csrf };
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(data), credentials: "same-origin",
                        cache: "no-store" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, data: body }; });
      })
      .catch(function () { return { ok: false, status: 0, data: { error: "error" } }; })
      .then(function (result) { return asked === generation ? result : new Promise(function () {}); });
  }

  function explain(data) {
    return msg(data.error || "error", { needed: fmt(data.needed), available: fmt(data.available), message: data.message || "",
                                        n: fmt(data.attempts_left), detail: data.detail ? K.tierName(data.detail) : "" });
  }

  function notice(title, text, tone) {
    render("t-notice", { title: title, text: text });
    stage.dataset.tone = tone || "error";
  }

  // --- asking before a tap, a till purchase or a language change throws away what is on the screen --------
  // Screens holding a shopper's work: a sign-up step, a receipt being claimed, a reward choice, a coupon or a
  // digital card still to be shown or photographed. A balance counts once the shopper touched it (choosing a
  // reward); one only glanced at gives way to the next shopper's tap, as a queue at the counter expects.
  var WORK = ["t-phone", "t-code", "t-names", "t-extras", "t-consent", "t-bind", "t-existing",
              "t-confirm-reward", "t-coupon", "t-enrolled", "t-receipt-scan", "t-receipt-tap", "t-receipt-phone",
              "t-draw-confirm", "t-draw-bought", "t-game", "t-game-result"];
  var ask = document.getElementById("ask");
  var askGo = null;
  function busy() {
    var screen = stage.dataset.screen;
    return !K.staffActive && (WORK.indexOf(screen) >= 0 || (screen === "t-balance" && !!state.touched));
  }
  function closeAsk() { ask.hidden = true; askGo = null; }
  function confirmLeave(question, go) {
    if (!busy()) { go(); return; }
    ask.querySelector("[data-field=question]").textContent = question;
    askGo = go;
    ask.hidden = false;
    armIdle(idleArmedMs || idleMs);
  }
  handlers["ask-stay"] = function () { closeAsk(); };
  handlers["ask-go"] = function () { var go = askGo; closeAsk(); if (go) { go(); } };

  handlers.done = function () { clearShopper(); };

  // --- service events -------------------------------------------------------------------------------------
  var transports = (app.dataset.transports || "polling").split(",");
  // The token came with this page's HTML and is bound to its session: the server admits no other socket.
  var socket = io({ transports: transports, auth: { token: app.dataset.socketToken } });
  K.socket = socket;
  // Each reader's last state, kept from the first message on: the server sends the states once as the page
  // connects, and a screen module loaded after that (the parser may run socket events between scripts)
  // reads them here instead of missing them.
  K.readerStates = {};
  socket.on("reader_status", function (data) {
    if (data && typeof data.reader_id === "string") { K.readerStates[data.reader_id] = data.state; }
  });
  socket.on("connect", function () { window.__kioskConnected = true; window.__kioskTransport = socket.io.engine.transport.name; });
  socket.on("disconnect", function () { window.__kioskConnected = false; });
  // A tap while a shopper is mid-way asks first (the same card tapped again just repaints its balance).
  socket.on("member", function (data) {
    if (K.staffActive) { return; }
    var same = stage.dataset.screen === "t-balance" && data.card_label && data.card_label === state.cardLabel;
    // What this tap's reconcile learned (kiosk/flows/on_screen.py) repaints only that same balance, never another screen.
    if (data.refresh) { if (same) { (K.showMember || K.renderBalance)(data); } return; }
    if (same) { K.renderBalance(data); return; }
    // K.showMember (member_language.js) first moves the page into the member's own language if it must.
    confirmLeave(msg("ask_tap"), function () { state = {}; (K.showMember || K.renderBalance)(data); });
  });
  socket.on("unknown_card", function (data) {
    if (K.staffActive) { return; }
    confirmLeave(msg("ask_tap"), function () { state = { card: data.card }; render("t-unknown", data); });
  });
  socket.on("card_blocked", function () {
    if (!K.staffActive) { confirmLeave(msg("ask_tap"), function () { state = {}; render("t-blocked"); }); }
  });
  // The driver's reason (e.g. a bank card) is for the log; the shopper reads the screen's own words.
  socket.on("card_refused", function () {
    if (K.staffActive || busy()) { return; }
    notice(msg("card_refused_title"), msg("card_refused"), "warn");
  });
  socket.on("enroll_card_bound", function (data) {
    if (K.staffActive) { if (K.onStaffCardBound) { K.onStaffCardBound(data); } return; }
    if (state.existing) { notice(msg("card_added"), "", "ok"); clearAfterShort(); return; }
    state.enrolling = false;
    render("t-enrolled", { bonus: data.points || 0 });
  });
  socket.on("enroll_card_taken", function (data) {
    if (K.staffActive) { if (K.onStaffCardTaken) { K.onStaffCardTaken(data); } return; }
    setError(msg("card_taken"));
  });
  socket.on("receipt_result", function (data) {
    if (data.state === "claimed") { K.renderBalance(data, data.points_earned); }
    else { state = {}; notice(msg("error"), msg(data.reason)); }
  });
  socket.on("pos_pending", function (data) {
    if (K.staffActive) { return; }
    confirmLeave(msg("ask_pos"), function () { state = { pos: true }; render("t-pos", data, 0x7fffffff); });
  });
  socket.on("pos_result", function (data) {
    if (data.state === "earned") { K.renderBalance(data, data.points_earned); }
    else if (data.state === "unknown_card" || data.state === "card_blocked") { setError(msg(data.state)); }
    // The till gets the whole reason from the API; the shopper hears a full disk as such, else "try again".
    else if (data.state === "failed") { state = {}; notice(msg("error"), msg(data.reason || "error")); }
    else if (stage.dataset.screen === "t-pos") { clearShopper(); }
  });
  // "degraded" (the cloud answers but refuses) changes nothing for the shopper; staff mode shows it.
  socket.on("link_state", function (data) { document.getElementById("offline").hidden = data.link !== "offline"; });
  socket.on("wake", function () { if (!stage.dataset.screen) { app.classList.add("awake"); armIdle(); } });
  // No staff token travels over the socket: the page fetches it over its own session, once.
  socket.on("staff_enter", function () { if (K.enterStaffByCard) { K.enterStaffByCard(); } });
  socket.on("error", function (data) { notice(msg("error"), msg((data && data.reason) || "try_again")); });

  function screenMs() { return Number(stage.dataset.ms) || idleMs; }
  function clearAfterShort() { armIdle(Math.min(idleMs, 8000)); }

  document.addEventListener("click", function (e) {
    var langLink = e.target.closest("a.lang");
    if (langLink) {
      e.preventDefault();
      if (langLink.classList.contains("current")) { return; }
      confirmLeave(msg("ask_lang"), function () { window.location.replace("/?lang=" + langLink.dataset.lang); });
      return;
    }
    var b = e.target.closest("[data-action]");
    if (b && handlers[b.dataset.action]) { handlers[b.dataset.action](b); }
  });
  document.addEventListener("pointerdown", function (e) {
    if (stillThere.contains(e.target)) { return; }  // its button's own click answers (and staff renew there)
    if (stage.dataset.screen === "t-balance" && stage.contains(e.target)) { state.touched = true; }
    if (stage.dataset.screen) { armIdle(screenMs()); }
    else { app.classList.add("awake"); armIdle(); }
  });
  // The attract loop: alternate "tap your card" and "join the club" while nobody is using the kiosk.
  var slides = document.querySelectorAll("#attract [data-slide]");
  var slide = 0;
  setInterval(function () {
    if (stage.dataset.screen || slides.length < 2) { return; }
    slide = (slide + 1) % slides.length;
    slides.forEach(function (el, i) { el.hidden = i !== slide; });
  }, 5000);
  // The loop's campaigns and the brand are the server's as of this page load: an idle page renews them hourly.
  var loadedAt = Date.now();
  setInterval(function () {
    if (!stage.dataset.screen && Date.now() - loadedAt > 3600 * 1000) { window.location.replace("/"); }
  }, 60 * 1000);

  // A freshly loaded page (e.g. after a language change) has no sign-up or receipt in progress: release any
  // card claim an earlier page left, so the next tap is not bound to a flow nobody sees (a till purchase stays).
  post("/api/reset", {});

  K.notice = notice; K.signed = signed; K.locale = locale; K.idleMs = idleMs;
  K.clearAfterShort = clearAfterShort; K.screenMs = screenMs;
  K.begin = function (s) { state = s; return s; };
  K.render = render; K.post = post; K.msg = msg; K.fill = fill; K.fmt = fmt; K.setError = setError;
  K.clear = clearShopper; K.armIdle = armIdle; K.explain = explain; K.stage = stage; K.app = app;
  K.state = function () { return state; };
  K.addWork = function (ids) { WORK.push.apply(WORK, ids); };  // screens of later modules that hold a shopper's work
  K.lang = lang;
})();
