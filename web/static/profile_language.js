// The member's screen language on the profile screen: fa, ar or en, each named in its own language, marked as
// chosen and saved with the profile (balance.js sends st().profileLanguage); the member's next tap shows it.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, stage = K.stage;
  function st() { return K.state(); }

  function mark(lang) {
    var buttons = stage.querySelectorAll("[data-action=profile-lang]");
    var known = Array.prototype.some.call(buttons, function (b) { return b.dataset.lang === lang; });
    if (!known) { return; }
    st().profileLanguage = lang;
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.lang === lang)); });
  }

  var open = handlers.profile;
  handlers.profile = function (button) {
    open(button);
    var chooser = stage.querySelector(".profile-language");
    // A complete profile is opened to change it (the language above all): its title says so.
    if (st().profileComplete && chooser) { stage.querySelector("h1").textContent = chooser.dataset.editTitle; }
    mark(st().language || K.lang);  // what the screen shows until the member picks another
  };
  handlers["profile-lang"] = function (button) { mark(button.dataset.lang); };
})();
