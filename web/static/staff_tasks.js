// Staff mode's member tasks beyond cards and points: today's activity at this kiosk, and stopping a member's
// text messages (after a confirmation: it cannot be undone from the kiosk). Uses staff.js's call and screens.
(function () {
  "use strict";
  var K = window.Kiosk;
  var timeFormat = new Intl.DateTimeFormat(K.locale, { hour: "2-digit", minute: "2-digit" });

  K.handlers["staff-today"] = function () {
    K.staffScreen("t-staff-today");
    K.staffCall("today", {}).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      var list = K.stage.querySelector(".today");
      r.data.activity.forEach(function (a) {
        list.appendChild(K.fill(document.getElementById("t-today-item").content.cloneNode(true), {
          time: timeFormat.format(new Date(a.created_at)), name: a.first_name, kind: K.msg("kind_" + a.kind),
          points: K.signed(a.points)
        }));
      });
      K.stage.querySelector('[data-none="today"]').hidden = r.data.activity.length > 0;
    });
  };

  K.handlers["staff-consent-open"] = function () {
    var m = K.state().member;
    K.staffScreen("t-staff-confirm-consent", { member_name: (m.first_name + " " + m.last_name).trim() });
  };
  K.handlers["staff-consent-confirm"] = function () {
    K.staffCall("consent/withdraw", { member_id: K.state().member.id }).then(function (r) {
      if (!r.ok) { K.setError(K.explain(r.data)); return; }
      K.staffReload(function () { K.staffOk(K.msg(r.data.withdrawn ? "consent_stopped" : "consent_none")); });
    });
  };
})();
