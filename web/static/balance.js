// The member's balance screen: tier and progress, rewards to choose and the locked ones, the club's extras,
// redeeming a reward for a coupon, and completing the profile later.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, stage = K.stage, lang = K.lang, msg = K.msg, fmt = K.fmt, render = K.render, fill = K.fill;
  var post = K.post, explain = K.explain, notice = K.notice, setError = K.setError, idleMs = K.idleMs, signed = K.signed;
  function st() { return K.state(); }

  // --- balance --------------------------------------------------------------------------------------------
  function renderBalance(data, earned) {
    st().session = data.session;
    st().cardLabel = data.card_label;
    st().tierNames = data.tier_names || {};
    st().language = data.language; st().profileComplete = !!data.profile_complete;
    var root = render("t-balance", {
      first_name: data.first_name, points: data.points, credit_rial: data.credit_rial, wallet_rial: data.wallet_rial,
      referral_code: data.referral_code,
      tier_name: K.tierName(data.tier)
    });
    root.querySelector(".tier-badge").dataset.tier = data.tier;
    root.querySelector(".progress .bar").style.width = Math.max(0, Math.min(100, data.progress_percent || 0)) + "%";
    root.querySelector(".progress").setAttribute("aria-valuenow", String(data.progress_percent || 0));
    root.querySelector("[data-field=to_next]").textContent = data.next_tier
      ? msg("to_next", { n: fmt(data.points_to_next), tier: K.tierName(data.next_tier) }) : msg("top_tier");
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
    // A complete profile still opens the profile screen: the member changes their language there.
    var profile = root.querySelector("[data-action=profile]");
    if (data.profile_complete) { profile.textContent = profile.dataset.editLabel; }
    profile.hidden = false;
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
    st().reward = button.dataset.reward;
    post("/api/rewards/check", { session: st().session, reward_id: st().reward }).then(function (r) {
      if (!r.ok) {
        if (stage.dataset.screen === "t-balance") { whyNot(explain(r.data)); } else { notice(msg("error"), explain(r.data)); }
        return;
      }
      render("t-confirm-reward", { name: named(r.data), cost_points: r.data.cost_points });
    });
  };
  handlers["redeem-confirm"] = function () {
    post("/api/rewards/redeem", { session: st().session, reward_id: st().reward }).then(function (r) {
      if (!r.ok) { notice(msg("error"), explain(r.data)); return; }
      var root = render("t-coupon", { name: named(r.data), code: r.data.code, balance: r.data.balance });
      root.querySelector("img.qr").src = r.data.qr;
    });
  };

  // Completing a profile later, from the balance screen: the last name and birthday, the bonus once.
  handlers.profile = function () {
    render("t-profile", {}, idleMs * 3);
    K.birthdaySelects();
    K.entryKeyboard(idleMs * 3);
  };
  handlers["profile-save"] = function () {
    var picked = K.pickedBirthday();
    post("/api/profile", { session: st().session, last_name: st().last_name || "", birthday: picked.birthday,
                           birthday_jalali: picked.birthday_jalali, language: st().profileLanguage || null }).then(function (r) {
      if (!r.ok) { setError(msg(r.data.error)); return; }
      notice(msg("profile_saved"), r.data.bonus ? msg("profile_bonus", { n: fmt(r.data.bonus) }) : "");
      K.clearAfterShort();
    });
  };

  K.renderBalance = renderBalance; K.named = named;
})();
