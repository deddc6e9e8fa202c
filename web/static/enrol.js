// Joining the club on the touchscreen: phone, the SMS code when the shop asks for one, names, birthday and
// referral, consent, then the card tapped now (or a digital card). Every step is checked by the server.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, lang = K.lang, msg = K.msg, render = K.render, post = K.post, explain = K.explain, notice = K.notice;
  var setError = K.setError;
  function st() { return K.state(); }

  function showPhone(error) {
    st().back = null;
    render("t-phone");
    K.entryKeypad("phone", 15);
    setError(error);
  }

  function startJoin(withCard) {
    var card = withCard ? st().card : null;
    K.begin({ enrolling: true, card: card });
    showPhone();
  }
  // Each wizard step remembers the one before it; what was typed is kept in state and shown again.
  handlers.back = function () { if (st().back) { st().back(); } };
  handlers.join = function () { startJoin(false); };
  handlers["join-with-card"] = function () { startJoin(true); };

  handlers["phone-next"] = function () {
    post("/api/enroll/phone", { phone: st().phone || "" }).then(function (r) {
      if (!r.ok) { setError(explain({ error: "invalid_phone" })); return; }
      if (r.data.sms_otp) { st().existing = r.data.existing; sendCode(); return; }
      if (r.data.existing) {
        // A typed phone number proves nothing about who is at the screen: staff add a card to a membership.
        K.begin({});
        render("t-existing-ask-staff");
        return;
      }
      showNames();
    });
  };

  // --- one-time SMS code ([enrollment] sms_otp): the cloud texts it, the shopper types it ------------------
  function sendCode(again) {
    post("/api/enroll/code/send", { phone: st().phone || "" }).then(function (r) {
      if (!r.ok) {
        if (r.data.error === "invalid_phone") { showPhone(explain(r.data)); return; }
        if (again) { setError(explain(r.data)); return; }
        K.begin({});
        notice(msg("otp_not_sent"), explain(r.data));
        return;
      }
      st().code = "";
      showCode(again ? msg("code_sent") : "");
    });
  }

  function showCode(text) {
    st().back = function () { st().code = ""; showPhone(); };
    render("t-code");
    K.entryKeypad("code", 6);
    setError(text);
  }
  handlers["code-resend"] = function () { sendCode(true); };
  handlers["code-next"] = function () {
    if ((st().code || "").length !== 6) { setError(msg("otp_format")); return; }
    post("/api/enroll/code/verify", { phone: st().phone || "", code: st().code }).then(function (r) {
      if (!r.ok) {
        st().code = "";
        showCode(explain(r.data));
        return;
      }
      st().code = "";
      if (r.data.add_card) {
        st().existing = true;
        // Ask for the tap only once the reader is claimed, so a quick tap cannot reach the balance screen instead.
        post("/api/enroll/await-card", { add_card: r.data.add_card, card: st().card || null }).then(function (a) {
          if (a.ok && a.data.bound) { notice(msg("card_added"), ""); K.clearAfterShort(); return; }
          render("t-existing");
          if (a.data.error === "card_taken") { setError(msg("card_taken")); }
        });
        return;
      }
      st().verified = r.data.verified;
      showNames();
    });
  };

  function showNames(error) {
    st().back = function () { showPhone(); };
    render("t-names");
    K.entryKeyboard();
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
    if (!(st().first_name || "").trim()) { setError(msg("invalid_first_name")); return; }
    checkStep(function () { showExtras(); });
  };

  function showExtras(error) {
    st().back = function () { showNames(); };
    render("t-extras");
    K.birthdaySelects();
    K.entryKeyboard();
    setError(error);
  }

  handlers["extras-next"] = function () {
    var parts = [st().bd_d, st().bd_m, st().bd_y].filter(Boolean).length;
    if (parts !== 0 && parts !== 3) { setError(msg("invalid_birthday")); return; }
    checkStep(function () {
      st().back = function () { showExtras(); };
      render("t-consent");
    });
  };

  function answers(consent) {
    var picked = K.pickedBirthday(), birthday = picked.birthday, birthdayJalali = picked.birthday_jalali;
    return {
      phone: st().phone, first_name: st().first_name || "", last_name: st().last_name || "",
      birthday: birthday, birthday_jalali: birthdayJalali, referral: st().referral || "", consent: consent,
      lang: lang, card: st().card || null, verified: st().verified || null
    };
  }

  function submitEnrolment(consent) {
    post("/api/enroll", answers(consent)).then(function (r) {
      if (r.ok && r.data.bound) { st().enrolling = false; render("t-enrolled", { bonus: r.data.bonus }); return; }
      if (r.ok || r.data.error === "card_taken") {
        // Nothing is written yet: the member is created together with the card tapped now (or a digital one).
        // The server already waits for the card; one tapped before this answer arrived may be bound already.
        st().application = r.data.application;
        if (!st().enrolling) { return; }
        render("t-bind", { first_name: r.data.first_name });
        setError(r.data.error ? explain(r.data) : "");
        return;
      }
      var field = r.data.field;
      var text = explain(r.data);
      if (r.data.error === "otp_required") { st().verified = null; showPhone(text); }
      else if (field === "phone") { showPhone(text); }
      else if (field === "first_name" || field === "last_name") { showNames(text); }
      else if (field === "birthday" || field === "referral") { showExtras(text); }
      else { setError(text); }
    });
  }
  handlers["consent-yes"] = function () { submitEnrolment(true); };
  handlers["consent-no"] = function () { submitEnrolment(false); };
  handlers["no-card"] = function () {
    post("/api/enroll/digital-card", { application: st().application }).then(function (r) {
      if (!r.ok) { setError(explain(r.data)); return; }
      st().enrolling = false;
      var root = render("t-enrolled", { bonus: r.data.bonus });
      var img = root.querySelector("img.qr");
      img.src = r.data.qr;
      img.hidden = false;
      root.querySelector(".qr-hint").hidden = false;
    });
  };
})();
