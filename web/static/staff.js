// Staff mode: PIN or staff card, then one task a screen (sized for the 7-inch screen): the device status, find a
// member, block a lost card (after a confirmation) and bind a new one, add a card to a member, adjust points.
// The staff token lives only in this closure and is dropped when staff mode ends or times out.
(function () {
  "use strict";
  var K = window.Kiosk;
  var token = null;
  var staffMs = Number(K.app.dataset.staffTimeout) * 1000;

  function leave() {
    if (token) { K.post("/staff/api/leave", {}, { "X-Staff-Token": token }); }
    token = null;
    K.staffActive = false;
    delete K.stage.dataset.staff;
  }
  K.onClear = leave;

  function call(path, data) {
    return K.post("/staff/api/" + path, data, { "X-Staff-Token": token || "" }).then(function (r) {
      if (r.data && r.data.token) { token = r.data.token; }
      if (r.status === 401 && r.data.error === "staff_timed_out") { K.clear(); }
      return r;
    });
  }

  function screen(id, data) {
    var root = K.render(id, data || {}, staffMs);
    K.stage.dataset.staff = "1";
    return root;
  }

  function ok(text) { var el = K.stage.querySelector(".ok"); if (el) { el.textContent = text; } K.setError(""); }

  K.handlers.staff = function () {
    var st = K.state();
    Object.keys(st).forEach(function (k) { delete st[k]; });
    K.staffActive = true;
    screen("t-staff-pin");
    K.entryKeypad("pin", 12);
  };

  K.handlers["pin-ok"] = function () {
    var st = K.state();
    K.post("/staff/api/pin", { pin: st.pin || "" }).then(function (r) {
      st.pin = "";
      if (!r.ok) {
        K.entryKeypad("pin", 12);
        K.setError(K.explain(r.data));
        return;
      }
      enter(r.data.token);
    });
  };

  function enter(newToken) {
    token = newToken;
    K.staffActive = true;
    var st = K.state();
    Object.keys(st).forEach(function (k) { delete st[k]; });
    home();
  }
  K.enterStaff = enter;
  // A staff card was tapped: its token comes over this page's session (CSRF and cookie), never the socket.
  K.enterStaffByCard = function () {
    K.post("/staff/api/card", {}).then(function (r) { if (r.ok && r.data.token) { enter(r.data.token); } });
  };

  function home() {
    screen("t-staff");
    call("status", {}).then(function (r) {
      if (!r.ok) { return; }
      var d = r.data;
      K.fill(K.stage, {
        device_id: d.device_id, branch: d.branch, outbox_depth: d.outbox_depth, taps_today: d.taps_today,
        enrolments_today: d.enrolments_today,
        last_sync: (d.last_sync || K.msg("never")) + " · " + K.msg("link_" + d.link),
        readers: Object.keys(d.readers).map(function (k) { return k + ": " + K.msg("reader_" + d.readers[k]); })
          .join(", ") || "—"
      });
    });
  }
  K.handlers["staff-home"] = home;

  K.handlers["staff-search"] = function () {
    var st = K.state();
    st.phone = "";
    screen("t-staff-find");
    K.entryKeypad("phone", 15);
  };

  K.handlers["staff-find"] = function () {
    var st = K.state();
    call("member", { phone: st.phone || "" }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      showMember(r.data.member);
    });
  };

  // The member screen is always painted from a fresh lookup, so the card list never goes stale after a move.
  function reloadMember(then) {
    var st = K.state();
    call("member", { phone: st.member.phone }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      showMember(r.data.member);
      if (then) { then(); }
    });
  }

  function showMember(m) {
    var st = K.state();
    st.member = m;
    screen("t-staff-member", { member_name: (m.first_name + " " + m.last_name).trim(), member_points: m.points });
    var list = K.stage.querySelector(".cards");
    m.cards.forEach(function (c) {
      var item = K.fill(document.getElementById("t-card-item").content.cloneNode(true),
                        { label: c.label, state: K.msg("cstate_" + c.state) });
      item.querySelector("li").dataset.state = c.state;
      var b = item.querySelector("button");
      b.dataset.cardRef = c.card_ref;
      b.dataset.label = c.label;
      b.hidden = c.state !== "active";
      list.appendChild(item);
    });
    K.stage.querySelector('[data-none="cards"]').hidden = m.cards.length > 0;
    K.stage.querySelector("[data-action=staff-consent-open]").hidden = !m.sms_consent;
  }
  K.handlers["staff-member"] = function () { reloadMember(); };

  K.handlers["staff-block"] = function (button) {
    var st = K.state();
    st.blockRef = button.dataset.cardRef;
    screen("t-staff-confirm-block", { label: button.dataset.label });
  };
  K.handlers["staff-block-confirm"] = function () {
    var st = K.state();
    call("block", { member_id: st.member.id, card_ref: st.blockRef }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      screen("t-staff-tap", { title: K.msg("blocked_tap_new") });
    });
  };
  K.handlers["staff-add-card"] = function () {
    var st = K.state();
    call("add-card", { member_id: st.member.id }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      screen("t-staff-tap", { title: K.msg("tap_new_card") });
    });
  };
  K.handlers["staff-tap-cancel"] = function () {
    call("leave", {});  // releases the reader: a later tap binds nothing
    reloadMember();
  };
  K.onStaffCardBound = function (data) { reloadMember(function () { ok(K.msg("moved", { label: data.label })); }); };
  K.onStaffCardTaken = function () { K.setError(K.msg("card_taken")); };

  K.handlers["staff-adjust-open"] = function () {
    var st = K.state();
    st.adjust_points = "";
    st.adjust_reason = "";
    screen("t-staff-adjust", { member_name: (st.member.first_name + " " + st.member.last_name).trim(),
                                member_points: st.member.points });
    K.entryKeyboard(staffMs);
  };
  K.handlers["staff-adjust"] = function () {
    var st = K.state();
    call("adjust", { member_id: st.member.id, points: st.adjust_points || "", reason: st.adjust_reason || "" })
      .then(function (r) {
        if (!r.ok) { K.setError(K.explain(r.data)); return; }
        reloadMember(function () { ok(K.msg("adjusted", { n: K.fmt(r.data.balance) })); });
      });
  };

  K.handlers["staff-leave"] = function () { K.clear(); };
  // For the other staff tasks (staff_tasks.js): the token stays in this closure, only the calls are shared.
  K.staffCall = call; K.staffScreen = screen; K.staffReload = reloadMember; K.staffOk = ok;

  // "I'm still here" in staff mode also renews the staff token, which the server times out on its own.
  var stillHere = K.handlers["still-here"];
  K.handlers["still-here"] = function (button) {
    stillHere(button);
    if (token) { call("status", {}); }
  };
})();
