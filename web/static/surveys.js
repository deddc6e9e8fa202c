// Surveys on the balance screen (issue 14): after the balance is painted the page asks for a survey to offer;
// one touch opens it, one question per screen, and the answers are sent once with an id chosen here, so
// "Send again" after a lost reply can never pay the reward twice.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, stage = K.stage, msg = K.msg, fmt = K.fmt, render = K.render, post = K.post;
  var setError = K.setError, idleMs = K.idleMs;
  function st() { return K.state(); }
  K.addWork(["t-survey-q", "t-survey-unsent"]);

  var paintBalance = K.renderBalance;
  K.renderBalance = function (data, earned) {
    paintBalance(data, earned);
    var session = data.session;
    function current() { return stage.dataset.screen === "t-balance" && st().session === session; }
    // Never in the way: asked for only once the balance is painted (the frame after it), because starting a
    // request costs the main thread a millisecond or more that the shopper's points would otherwise wait for
    // (benchmarks/tap_to_paint.py); the offer appears when (and if) the answer comes.
    requestAnimationFrame(function () {
      setTimeout(function () {
        if (!current()) { return; }
        post("/api/surveys/offer", { session: session, lang: K.lang }).then(function (r) {
          if (!r.ok || !r.data.survey || !current()) { return; }
          st().survey = r.data.survey;
          var button = document.getElementById("t-survey-offer").content.cloneNode(true).firstElementChild;
          button.textContent = r.data.survey.reward_points
            ? msg("survey_offer_points", { n: fmt(r.data.survey.reward_points) }) : msg("survey_offer");
          var actions = stage.querySelector(".actions.bottom");
          actions.insertBefore(button, actions.firstChild);
        });
      }, 0);
    });
  };

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  handlers.survey = function () {
    var s = st();
    if (!s.survey) { return; }
    s.answers = {};
    s.answerId = newId();
    s.question = 0;
    question();
  };

  function question() {
    var s = st(), survey = s.survey, q = survey.questions[s.question];
    var root = render("t-survey-q", { step: msg("survey_step", { n: fmt(s.question + 1), total: fmt(survey.questions.length) }),
                                      text: q.text }, idleMs * 2);
    var area = root.querySelector(".survey-answer");
    function choice(label, value, cls) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      if (cls) { b.className = cls; }
      b.addEventListener("click", function () { s.answers[q.id] = value; next(); });
      area.appendChild(b);
    }
    if (q.type === "stars") {
      area.dir = "ltr";  // one star on the left, five on the right, whatever the language
      [1, 2, 3, 4, 5].forEach(function (n) { choice("★".repeat(n), n, "star"); });
      area.querySelectorAll("button").forEach(function (b, i) { b.setAttribute("aria-label", fmt(i + 1)); b.dataset.stars = String(i + 1); });
    } else if (q.type === "yes_no") {
      choice(msg("survey_yes"), true); choice(msg("survey_no"), false);
    } else if (q.type === "choice") {
      q.choices.forEach(function (c, i) { choice(c, i); });
    } else {
      var out = root.querySelector(".survey-text"), board = root.querySelector(".keyboard");
      out.hidden = false; board.hidden = false;
      root.querySelector("[data-action=survey-next]").hidden = false;
      s.typed = s.answers[q.id] || "";
      out.textContent = s.typed;
      KioskKeys.keyboard(board, K.lang, function (k) {
        if (k === "back") { s.typed = s.typed.slice(0, -1); } else if (s.typed.length < 200) { s.typed += k; }
        out.textContent = s.typed;
        K.armIdle(idleMs * 2);
      });
    }
  }

  function next() {
    var s = st();
    s.question += 1;
    if (s.question < s.survey.questions.length) { question(); } else { send(); }
  }
  handlers["survey-skip"] = function () { next(); };
  handlers["survey-next"] = function () {
    var s = st(), q = s.survey.questions[s.question];
    if (s.typed && s.typed.trim()) { s.answers[q.id] = s.typed; }
    s.typed = "";
    next();
  };

  function send() {
    var s = st();
    post("/api/surveys/answer", { session: s.session, survey_id: s.survey.id, answer_id: s.answerId,
                                  answers: s.answers, lang: K.lang }).then(function (r) {
      if (r.ok) {
        K.begin({});
        K.notice(msg("survey_thanks"), r.data.reward_points ? msg("survey_paid", { n: fmt(r.data.reward_points) }) : "", "ok");
        K.clearAfterShort();
        return;
      }
      if (r.data.error === "already_answered") { K.begin({}); K.notice(msg("survey_thanks"), msg("already_answered"), "warn"); return; }
      if (r.data.error === "invalid_answer" || r.data.error === "timed_out" || r.data.error === "bad_token") {
        K.begin({}); K.notice(msg("error"), msg(r.data.error)); return;
      }
      // No answer (network, a restarting kiosk): the same id goes again, so nothing is recorded twice.
      render("t-survey-unsent", { text: msg("survey_unsent") });
    });
  }
  handlers["survey-send"] = function () { send(); };
})();
