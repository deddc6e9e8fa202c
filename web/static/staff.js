// Staff mode: PIN or staff card, status, find a member, block a lost card and bind a new one, adjust points.
// The staff token lives only in this closure and is dropped when staff mode ends or times out.
(function () {
  "use strict";
  var K = window.Kiosk;
  var token = null;
  var staffMs = Number(K.app.dataset.staffTimeout) * 1000;

  function leave() {
    if (token) { K.post("/staff/api/leave", {}); }
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

  K.handlers.staff = function () {
    var st = K.state();
    Object.keys(st).forEach(function (k) { delete st[k]; });
    K.staffActive = true;
    K.render("t-staff-pin", {}, staffMs);
    K.stage.dataset.staff = "1";
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
    K.render("t-staff", {}, staffMs);
    K.stage.dataset.staff = "1";
    K.entryKeypad("phone", 15);
    refresh();
  }
  K.enterStaff = enter;
  // A staff card was tapped: its token comes over this page's session (CSRF and cookie), never the socket.
  K.enterStaffByCard = function () {
    K.post("/staff/api/card", {}).then(function (r) { if (r.ok && r.data.token) { enter(r.data.token); } });
  };

  function refresh() {
    call("status", {}).then(function (r) {
      if (!r.ok) { return; }
      var d = r.data;
      K.fill(K.stage, {
        device_id: d.device_id, branch: d.branch, outbox_depth: d.outbox_depth, taps_today: d.taps_today,
        enrolments_today: d.enrolments_today, last_sync: (d.last_sync || K.msg("never")) + " (" + d.link + ")",
        readers: Object.keys(d.readers).map(function (k) { return k + ": " + d.readers[k]; }).join(", ") || "—"
      });
    });
  }

  function ok(text) { var el = K.stage.querySelector(".ok"); if (el) { el.textContent = text; } K.setError(""); }

  K.handlers["staff-find"] = function () {
    var st = K.state();
    call("member", { phone: st.phone || "" }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      showMember(r.data.member);
    });
  };

  function showMember(m) {
    var st = K.state();
    st.member = m;
    var panel = K.stage.querySelector(".member-panel");
    panel.hidden = false;
    K.fill(panel, { member_name: m.first_name + " " + m.last_name, member_points: m.points });
    var list = panel.querySelector(".cards");
    list.replaceChildren();
    m.cards.forEach(function (c) {
      var item = K.fill(document.getElementById("t-card-item").content.cloneNode(true), c);
      var b = item.querySelector("button");
      b.dataset.cardRef = c.card_ref;
      b.disabled = c.state !== "active";
      list.appendChild(item);
    });
    if (!panel.dataset.keyboard) { panel.dataset.keyboard = "1"; K.entryKeyboard(staffMs); }
    K.setError("");
  }

  K.handlers["staff-block"] = function (button) {
    var st = K.state();
    call("block", { member_id: st.member.id, card_ref: button.dataset.cardRef }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      button.disabled = true;
      ok(K.msg("blocked_tap_new"));
    });
  };
  K.onStaffCardBound = function (data) { ok(K.msg("moved", { label: data.label })); refresh(); };
  K.onStaffCardTaken = function () { K.setError(K.msg("card_taken")); };

  K.handlers["staff-adjust"] = function () {
    var st = K.state();
    call("adjust", { member_id: st.member.id, points: st.adjust_points || "", reason: st.adjust_reason || "" })
      .then(function (r) {
        if (!r.ok) { K.setError(K.explain(r.data)); return; }
        ok(K.msg("adjusted", { n: K.fmt(r.data.balance) }));
        K.fill(K.stage, { member_points: r.data.balance });
      });
  };

  K.handlers["staff-leave"] = function () { K.clear(); };
})();
