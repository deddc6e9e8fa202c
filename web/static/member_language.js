// The member's own language at their tap: a balance for a member who chose another language than the page's
// moves the page into theirs. The server keeps which member for that one reload (web/member_language.py), so
// neither the URL nor the browser's storage ever holds it; the next shopper starts in the shop's language again
// (kiosk.js clears back to it).
(function () {
  "use strict";
  var K = window.Kiosk;
  var offered = Array.prototype.map.call(document.querySelectorAll("nav.langs a.lang[data-lang]"),
                                         function (a) { return a.dataset.lang; });

  K.showMember = function (data) {
    var want = data.language;
    if (!want || want === K.lang || offered.indexOf(want) < 0) { K.renderBalance(data); return; }
    K.post("/api/member/language", { session: data.session, card_label: data.card_label || "",
                                     draw_wins: data.draw_wins || [] }).then(function (r) {
      // Should the server refuse, the balance shows in the page's language rather than not at all.
      if (r.ok && r.data.lang === want) { window.location.replace("/?lang=" + encodeURIComponent(want)); }
      else { K.renderBalance(data); }
    });
  };

  // This load may be that reload: the balance it was for, once.
  K.post("/api/member/again", {}).then(function (r) {
    if (r.ok && r.data.member) { K.begin({}); K.renderBalance(r.data.member); }
  });
})();
