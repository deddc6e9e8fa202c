// A tier's name in the screen's language: the chain's own name for it (the tier's `names` in the config,
// carried by the balance payload as tier_names), else the screen's word for the four standard tiers, else
// the tier's name as configured. A new tier made in the console never shows as a message key.
(function () {
  "use strict";
  var K = window.Kiosk;
  K.tierName = function (name, tierNames) {
    var own = (tierNames || (K.state() || {}).tierNames || {})[name];
    if (own && own[K.lang]) { return own[K.lang]; }
    var word = K.msg("tier_" + name);
    return word === "tier_" + name ? name : word;
  };
})();
