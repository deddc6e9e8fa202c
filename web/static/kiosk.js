// The kiosk page: paints what the service pushes, runs the shopper flows, and forgets everything after each
// finished action and after the idle timeout. No inline script: the CSP allows only files from 'self'.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var stage = document.getElementById("stage");
  var idleMs = Number(app.dataset.idleTimeout) * 1000;
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
    var el = document.querySelector('#msgs [data-msg="' + code + '"]');
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
    var hadFlow = !!(state.member || state.receipt || state.enrolling);
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
                                        n: fmt(data.attempts_left), detail: data.detail ? msg("tier_" + data.detail) : "" });
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
              "t-confirm-reward", "t-coupon", "t-enrolled", "t-receipt-scan", "t-receipt-tap", "t-receipt-phone"];
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

  // --- balance --------------------------------------------------------------------------------------------
  function renderBalance(data, earned) {
    state.session = data.session;
    state.cardLabel = data.card_label;
    var root = render("t-balance", {
      first_name: data.first_name, points: data.points, credit_rial: data.credit_rial, wallet_rial: data.wallet_rial,
      referral_code: data.referral_code,
      tier_name: msg("tier_" + data.tier)
    });
    root.querySelector(".tier-badge").dataset.tier = data.tier;
    root.querySelector(".progress .bar").style.width = Math.max(0, Math.min(100, data.progress_percent || 0)) + "%";
    root.querySelector(".progress").setAttribute("aria-valuenow", String(data.progress_percent || 0));
    root.querySelector("[data-field=to_next]").textContent = data.next_tier
      ? msg("to_next", { n: fmt(data.points_to_next), tier: msg("tier_" + data.next_tier) }) : msg("top_tier");
    if (earned) {
      var e = root.querySelector("[data-field=earned_now]");
      e.textContent = msg("earned", { n: fmt(earned) });
      e.hidden = false;
    }
    var list = root.querySelector(".rewards");
    (data.rewards || []).forEach(function (rw) {
      var item = fill(document.getElementById("t-reward-item").content.cloneNode(true), { name: named(rw), cost_points: rw.cost_points });
      item.querySelector("button").dataset.reward = rw.id;
      list.appendChild(item);
    });
    var locked = root.querySelector(".locked-rewards");
    (data.locked_rewards || []).forEach(function (rw) {
      var item = fill(document.getElementById("t-locked-item").content.cloneNode(true), rw);
      var b = item.querySelector("button");
      b.dataset.reward = rw.id;
      b.dataset.locked = "1";
      item.querySelector("[data-field=short]").textContent = rw.points_short > 0
        ? msg("more_points", { n: fmt(rw.points_short) }) : msg("locked_other");
      locked.appendChild(item);
    });
    root.querySelector(".locked-block").hidden = !(data.locked_rewards || []).length;
    root.querySelector('[data-none="rewards"]').hidden = (data.rewards || []).length > 0;
    renderClub(root, data);
    var recent = root.querySelector(".recent");
    (data.recent || []).forEach(function (r) {
      var item = document.getElementById("t-recent-item").content.cloneNode(true);
      fill(item, { date: r.dates ? r.dates[lang] : r.at, kind: msg("kind_" + r.kind) });
      item.querySelector("[data-field=delta]").textContent = signed(r.points);
      recent.appendChild(item);
    });
  }

  // A reward's or campaign's name in this page's language (the payload carries every language's).
  function named(item) { return (item.names && item.names[lang]) || item.name; }

  // The club's extras on the balance screen: campaigns, cashback credit, expiry dates, coupons held, referral code.
  function renderClub(root, data) {
    function each(selector, items, build) {
      var list = root.querySelector(selector);
      (items || []).forEach(function (item) { list.appendChild(build(item)); });
      list.hidden = !(items || []).length;
      return list;
    }
    function line(text) { var li = document.createElement("li"); li.textContent = text; return li; }
    each(".campaigns-applied", data.campaigns_applied, function (c) { return line(c.points ? named(c) + ": " + signed(c.points) : named(c)); });
    var running = root.querySelector(".campaigns-running");
    running.textContent = msg("campaigns_running", { names: (data.campaigns || []).map(named).join(lang === "en" ? ", " : "، ") });
    running.hidden = !(data.campaigns || []).length;
    root.querySelector(".wallet").hidden = !data.wallet_rial;
    each(".expiring", data.expiring, function (e) { return line(msg("expiring", { n: fmt(e.points), date: e.dates ? e.dates[lang] : e.on })); });
    var coupons = root.querySelector(".coupons-held");
    coupons.hidden = !(data.coupons || []).length;
    (data.coupons || []).forEach(function (c) {
      var item = { name: named(c), code: c.code };
      coupons.querySelector(".coupons").appendChild(fill(document.getElementById("t-coupon-item").content.cloneNode(true), item));
    });
    root.querySelector("[data-action=profile]").hidden = data.profile_complete !== false;
    if (data.referral_code) {
      root.querySelector(".referral").hidden = false;
      root.querySelector(".referral-qr").src = data.referral_qr;
    }
  }

  // A reward that cannot be had is explained on the balance itself: the shopper stays where they were.
  function whyNot(text) {
    var el = stage.querySelector(".why");
    if (el) { el.textContent = text; el.hidden = !text; }
  }
  handlers.reward = function (button) {
    state.reward = button.dataset.reward;
    post("/api/rewards/check", { session: state.session, reward_id: state.reward }).then(function (r) {
      if (!r.ok) {
        if (stage.dataset.screen === "t-balance") { whyNot(explain(r.data)); } else { notice(msg("error"), explain(r.data)); }
        return;
      }
      render("t-confirm-reward", { name: named(r.data), cost_points: r.data.cost_points });
    });
  };
  handlers["redeem-confirm"] = function () {
    post("/api/rewards/redeem", { session: state.session, reward_id: state.reward }).then(function (r) {
      if (!r.ok) { notice(msg("error"), explain(r.data)); return; }
      var root = render("t-coupon", { name: named(r.data), code: r.data.code, balance: r.data.balance });
      root.querySelector("img.qr").src = r.data.qr;
    });
  };

  // --- enrolment ------------------------------------------------------------------------------------------
  function entryKeypad(field, max) {
    var out = stage.querySelector('[data-field="' + field + '"]');
    var value = state[field] || "";
    function paint() { out.textContent = field === "pin" ? value.replace(/./g, "•") : toLocalDigits(value); }
    KioskKeys.keypad(stage.querySelector('.keypad[data-target="' + field + '"]'), lang, function (k) {
      if (k === "back") { value = value.slice(0, -1); } else if (value.length < max) { value += k; }
      state[field] = value;
      paint();
      armIdle(stage.dataset.staff ? Number(app.dataset.staffTimeout) * 1000 : idleMs);
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
      var value = state[name] || "";
      if (k === "back") { value = value.slice(0, -1); } else if (value.length < 40) { value += k; }
      state[name] = value;
      current.textContent = value;
      autoShift();
      armIdle(ms);
    });
    // A capital where one is usual: at the start, and after a space in a name; codes are typed as they are.
    function autoShift() {
      var value = state[current.dataset.input] || "";
      var name = /name/.test(current.dataset.input);
      board.setShift(!current.dataset.layout && (value === "" || (name && / $/.test(value))));
    }
    boxes.forEach(function (box) {
      box.textContent = state[box.dataset.input] || "";
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

  function showPhone(error) {
    state.back = null;
    render("t-phone");
    entryKeypad("phone", 15);
    setError(error);
  }

  function startJoin(withCard) {
    var card = withCard ? state.card : null;
    state = { enrolling: true, card: card };
    showPhone();
  }
  // Each wizard step remembers the one before it; what was typed is kept in state and shown again.
  handlers.back = function () { if (state.back) { state.back(); } };
  handlers.join = function () { startJoin(false); };
  handlers["join-with-card"] = function () { startJoin(true); };

  handlers["phone-next"] = function () {
    post("/api/enroll/phone", { phone: state.phone || "" }).then(function (r) {
      if (!r.ok) { setError(explain({ error: "invalid_phone" })); return; }
      if (r.data.sms_otp) { state.existing = r.data.existing; sendCode(); return; }
      if (r.data.existing) {
        // A typed phone number proves nothing about who is at the screen: staff add a card to a membership.
        state = {};
        render("t-existing-ask-staff");
        return;
      }
      showNames();
    });
  };

  // --- one-time SMS code ([enrollment] sms_otp): the cloud texts it, the shopper types it ------------------
  function sendCode(again) {
    post("/api/enroll/code/send", { phone: state.phone || "" }).then(function (r) {
      if (!r.ok) {
        if (r.data.error === "invalid_phone") { showPhone(explain(r.data)); return; }
        if (again) { setError(explain(r.data)); return; }
        state = {};
        notice(msg("otp_not_sent"), explain(r.data));
        return;
      }
      state.code = "";
      showCode(again ? msg("code_sent") : "");
    });
  }

  function showCode(text) {
    state.back = function () { state.code = ""; showPhone(); };
    render("t-code");
    entryKeypad("code", 6);
    setError(text);
  }
  handlers["code-resend"] = function () { sendCode(true); };
  handlers["code-next"] = function () {
    if ((state.code || "").length !== 6) { setError(msg("otp_format")); return; }
    post("/api/enroll/code/verify", { phone: state.phone || "", code: state.code }).then(function (r) {
      if (!r.ok) {
        state.code = "";
        showCode(explain(r.data));
        return;
      }
      state.code = "";
      if (r.data.add_card) {
        state.existing = true;
        // Ask for the tap only once the reader is claimed, so a quick tap cannot reach the balance screen instead.
        post("/api/enroll/await-card", { add_card: r.data.add_card, card: state.card || null }).then(function (a) {
          if (a.ok && a.data.bound) { notice(msg("card_added"), ""); clearAfterShort(); return; }
          render("t-existing", {}, idleMs * 3);
          if (a.data.error === "card_taken") { setError(msg("card_taken")); }
        });
        return;
      }
      state.verified = r.data.verified;
      showNames();
    });
  };

  function showNames(error) {
    state.back = function () { showPhone(); };
    render("t-names");
    entryKeyboard(idleMs);
    setError(error);
  }
  // Each step is checked by the server as it is left, so an error shows on the screen of its field.
  function checkStep(then) {
    post("/api/enroll/check", answers(null)).then(function (r) {
      if (r.ok) { then(); return; }
      setError(explain(r.data));
    });
  }
  handlers["names-next"] = function () {
    if (!(state.first_name || "").trim()) { setError(msg("invalid_first_name")); return; }
    checkStep(function () { showExtras(); });
  };

  function showExtras(error) {
    state.back = function () { showNames(); };
    render("t-extras");
    birthdaySelects();
    entryKeyboard(idleMs);
    setError(error);
  }

  // The day, month and year pickers of a birthday (Jalali months in fa when the shop's calendar is Jalali).
  function birthdaySelects() {
    var jalali = lang === "fa" && app.dataset.calendar === "jalali";
    KioskBirthday.picker(stage, {
      jalali: jalali, year: Number(app.dataset.thisYear) - (jalali ? 621 : 0), locale: locale,
      labels: { d: msg("bd_day"), m: msg("bd_month"), y: msg("bd_year") }, digits: toLocalDigits,
      jalaliMonths: Array.prototype.map.call(document.querySelectorAll("#jalali-months li"), function (li) { return li.textContent; }),
      picked: { d: state.bd_d, m: state.bd_m, y: state.bd_y },
      onChange: function (picked) {
        state.bd_d = picked.d; state.bd_m = picked.m; state.bd_y = picked.y;
        setError("");
        armIdle();
      }
    });
    state.jalali = jalali;
  }
  handlers["extras-next"] = function () {
    var parts = [state.bd_d, state.bd_m, state.bd_y].filter(Boolean).length;
    if (parts !== 0 && parts !== 3) { setError(msg("invalid_birthday")); return; }
    checkStep(function () {
      state.back = function () { showExtras(); };
      render("t-consent");
    });
  };

  // The picked birthday as the API wants it: {birthday} (ISO) or {birthday_jalali} (y, m, d), or neither.
  function pickedBirthday() {
    if (!(state.bd_y && state.bd_m && state.bd_d)) { return { birthday: null, birthday_jalali: null }; }
    if (state.jalali) { return { birthday: null, birthday_jalali: { y: Number(state.bd_y), m: Number(state.bd_m), d: Number(state.bd_d) } }; }
    return { birthday: [state.bd_y, ("0" + state.bd_m).slice(-2), ("0" + state.bd_d).slice(-2)].join("-"), birthday_jalali: null };
  }

  // Completing a profile later, from the balance screen: the last name and birthday, the bonus once.
  handlers.profile = function () {
    render("t-profile", {}, idleMs * 3);
    birthdaySelects();
    entryKeyboard(idleMs * 3);
  };
  handlers["profile-save"] = function () {
    var picked = pickedBirthday();
    post("/api/profile", { session: state.session, last_name: state.last_name || "", birthday: picked.birthday,
                           birthday_jalali: picked.birthday_jalali }).then(function (r) {
      if (!r.ok) { setError(msg(r.data.error)); return; }
      notice(msg("profile_saved"), r.data.bonus ? msg("profile_bonus", { n: fmt(r.data.bonus) }) : "");
      clearAfterShort();
    });
  };

  function answers(consent) {
    var picked = pickedBirthday(), birthday = picked.birthday, birthdayJalali = picked.birthday_jalali;
    return {
      phone: state.phone, first_name: state.first_name || "", last_name: state.last_name || "",
      birthday: birthday, birthday_jalali: birthdayJalali, referral: state.referral || "", consent: consent,
      lang: lang, card: state.card || null, verified: state.verified || null
    };
  }

  function submitEnrolment(consent) {
    post("/api/enroll", answers(consent)).then(function (r) {
      if (r.ok && r.data.bound) { state.enrolling = false; render("t-enrolled", { bonus: r.data.bonus }); return; }
      if (r.ok || r.data.error === "card_taken") {
        // Nothing is written yet: the member is created together with the card tapped now (or a digital one).
        state.application = r.data.application;
        var taken = r.data.error ? explain(r.data) : "";
        post("/api/enroll/await-card", { application: state.application }).then(function () {
          render("t-bind", { first_name: r.data.first_name }, idleMs * 3);
          setError(taken);
        });
        return;
      }
      var field = r.data.field;
      var text = explain(r.data);
      if (r.data.error === "otp_required") { state.verified = null; showPhone(text); }
      else if (field === "phone") { showPhone(text); }
      else if (field === "first_name" || field === "last_name") { showNames(text); }
      else if (field === "birthday" || field === "referral") { showExtras(text); }
      else { setError(text); }
    });
  }
  handlers["consent-yes"] = function () { submitEnrolment(true); };
  handlers["consent-no"] = function () { submitEnrolment(false); };
  handlers["no-card"] = function () {
    post("/api/enroll/digital-card", { application: state.application }).then(function (r) {
      if (!r.ok) { setError(explain(r.data)); return; }
      state.enrolling = false;
      var root = render("t-enrolled", { bonus: r.data.bonus });
      var img = root.querySelector("img.qr");
      img.src = r.data.qr;
      img.hidden = false;
      root.querySelector(".qr-hint").hidden = false;
    });
  };

  // --- receipt self-claim ---------------------------------------------------------------------------------
  handlers.receipt = function () {
    state = { receipt: true };
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
        state.receiptCode = code;
        render("t-receipt-tap", { points: r.data.points }, idleMs * 3);
      });
    });
  };

  // No card at hand: the receipt's points go to the membership of a typed number (named nowhere on screen).
  handlers["receipt-phone"] = function () {
    state.phone = "";
    render("t-receipt-phone");
    entryKeypad("phone", 15);
  };
  handlers["receipt-phone-ok"] = function () {
    post("/api/receipt/phone", { code: state.receiptCode, phone: state.phone || "" }).then(function (r) {
      if (!r.ok) { setError(explain(r.data)); return; }
      state = {};
      notice(msg("earned", { n: fmt(r.data.points_earned) }), msg("receipt_added", { n: fmt(r.data.points_earned) }), "ok");
      clearAfterShort();
    });
  };

  handlers.done = function () { clearShopper(); };

  // --- service events -------------------------------------------------------------------------------------
  var transports = (app.dataset.transports || "polling").split(",");
  // The token came with this page's HTML and is bound to its session: the server admits no other socket.
  var socket = io({ transports: transports, auth: { token: app.dataset.socketToken } });
  K.socket = socket;
  socket.on("connect", function () { window.__kioskConnected = true; window.__kioskTransport = socket.io.engine.transport.name; });
  socket.on("disconnect", function () { window.__kioskConnected = false; });
  // A tap while a shopper is mid-way asks first (the same card tapped again just repaints its balance).
  socket.on("member", function (data) {
    if (K.staffActive) { return; }
    var same = stage.dataset.screen === "t-balance" && data.card_label && data.card_label === state.cardLabel;
    if (same) { renderBalance(data); return; }
    confirmLeave(msg("ask_tap"), function () { state = {}; renderBalance(data); });
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
    if (data.state === "claimed") { renderBalance(data, data.points_earned); }
    else { state = {}; notice(msg("error"), msg(data.reason)); }
  });
  socket.on("pos_pending", function (data) {
    if (K.staffActive) { return; }
    confirmLeave(msg("ask_pos"), function () { state = { pos: true }; render("t-pos", data, 0x7fffffff); });
  });
  socket.on("pos_result", function (data) {
    if (data.state === "earned") { renderBalance(data, data.points_earned); }
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
    if (stage.dataset.screen) { armIdle(stage.dataset.staff ? Number(app.dataset.staffTimeout) * 1000 : undefined); }
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

  // A freshly loaded page (e.g. after a language change) has no sign-up or receipt in progress: release any
  // card claim an earlier page left, so the next tap is not bound to a flow nobody sees (a till purchase stays).
  post("/api/reset", {});

  K.render = render; K.post = post; K.msg = msg; K.fill = fill; K.fmt = fmt; K.setError = setError;
  K.clear = clearShopper; K.armIdle = armIdle; K.explain = explain; K.stage = stage; K.app = app;
  K.state = function () { return state; };
  K.lang = lang;
})();
