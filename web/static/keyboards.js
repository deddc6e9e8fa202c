// On-screen keypad and keyboard (Persian, Arabic, Latin layouts) for a kiosk without a physical keyboard.
(function () {
  "use strict";
  var LAYOUTS = {
    fa: ["ض ص ث ق ف غ ع ه خ ح ج چ", "ش س ی ب ل ا ت ن م ک گ", "ظ ط ز ر ذ د پ و ژ آ"],
    ar: ["ض ص ث ق ف غ ع ه خ ح ج د", "ش س ي ب ل ا ت ن م ك ط", "ئ ء ؤ ر ى ة و ز ظ أ إ"],
    en: ["1 2 3 4 5 6 7 8 9 0 -", "Q W E R T Y U I O P", "A S D F G H J K L", "Z X C V B N M '"]
  };
  var NEXT = { fa: "ar", ar: "en", en: "fa" };
  var LAYOUT_LABEL = { fa: "فا", ar: "ع", en: "EN" };
  var DIGITS = {
    fa: "۰۱۲۳۴۵۶۷۸۹", ar: "٠١٢٣٤٥٦٧٨٩", en: "0123456789"
  };

  function key(label, value, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "key" + (cls ? " " + cls : "");
    b.textContent = label;
    b.dataset.key = value;
    return b;
  }

  // Digits are shown in the page's script but always typed as ASCII: phonenumbers and the PIN check want 0-9.
  function keypad(container, lang, onKey, withPlus) {
    container.replaceChildren();
    var digits = DIGITS[lang] || DIGITS.en;
    [1, 2, 3, 4, 5, 6, 7, 8, 9].forEach(function (d) { container.appendChild(key(digits[d], String(d))); });
    container.appendChild(key("⌫", "back", "wide"));
    container.appendChild(key(digits[0], "0"));
    if (withPlus) { container.appendChild(key("+", "+")); }  // international numbers; never part of a PIN
    container.addEventListener("click", function (e) {
      var b = e.target.closest(".key");
      if (b) { onKey(b.dataset.key); }
    });
  }

  function keyboard(container, layout, onKey) {
    function draw(name) {
      container.replaceChildren();
      container.dataset.layout = name;
      LAYOUTS[name].forEach(function (row) {
        var r = document.createElement("div");
        r.className = "row";
        row.split(" ").forEach(function (ch) { r.appendChild(key(ch, ch)); });
        container.appendChild(r);
      });
      var last = document.createElement("div");
      last.className = "row";
      last.appendChild(key(LAYOUT_LABEL[NEXT[name]], "layout", "wide"));
      if (name === "fa") { last.appendChild(key("‌", "\u200c", "zwnj")); }
      last.appendChild(key("␣", " ", "space"));
      last.appendChild(key("⌫", "back", "wide"));
      container.appendChild(last);
    }
    draw(LAYOUTS[layout] ? layout : "en");
    container.addEventListener("click", function (e) {
      var b = e.target.closest(".key");
      if (!b) { return; }
      if (b.dataset.key === "layout") { draw(NEXT[container.dataset.layout]); return; }
      onKey(b.dataset.key);
    });
    return { use: draw };
  }

  window.KioskKeys = { keypad: keypad, keyboard: keyboard, digits: DIGITS };
})();
