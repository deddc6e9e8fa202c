// On-screen keypad and keyboard (Persian, Arabic, Latin layouts) for a kiosk without a physical keyboard.
// Both keep their physical layout whatever the page's direction: a keypad reads 1-2-3 and a keyboard's rows
// start at the key under the left hand in fa and ar too (their containers are dir="ltr").
(function () {
  "use strict";
  var LAYOUTS = {
    fa: ["ض ص ث ق ف غ ع ه خ ح ج چ", "ش س ی ب ل ا ت ن م ک گ", "ظ ط ز ر ذ د پ و ژ آ", "ئ ء ؤ أ"],
    ar: ["ض ص ث ق ف غ ع ه خ ح ج د", "ش س ي ب ل ا ت ن م ك ط", "ئ ء ؤ ر ى ة و ز ظ أ إ"],
    en: ["1 2 3 4 5 6 7 8 9 0 -", "q w e r t y u i o p", "a s d f g h j k l", "z x c v b n m '"]
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
    container.dir = "ltr";
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

  // Latin letters come lower case with a one-shot Shift; the caller turns Shift on where a capital is usual
  // (the start of a name, after a space) through setShift().
  function keyboard(container, layout, onKey) {
    var upper = false;
    container.dir = "ltr";
    function paintCase() {
      container.querySelectorAll(".key[data-letter]").forEach(function (b) {
        var ch = b.dataset.letter;
        b.textContent = upper ? ch.toUpperCase() : ch;
        b.dataset.key = b.textContent;
      });
      var s = container.querySelector(".key.shift");
      if (s) { s.classList.toggle("on", upper); s.setAttribute("aria-pressed", String(upper)); }
    }
    function draw(name) {
      container.replaceChildren();
      container.dataset.layout = name;
      LAYOUTS[name].forEach(function (row) {
        var r = document.createElement("div");
        r.className = "row";
        row.split(" ").forEach(function (ch) {
          var b = key(ch, ch);
          if (name === "en" && /[a-z]/.test(ch)) { b.dataset.letter = ch; }
          r.appendChild(b);
        });
        container.appendChild(r);
      });
      var last = document.createElement("div");
      last.className = "row";
      last.appendChild(key(LAYOUT_LABEL[NEXT[name]], "layout", "wide"));
      if (name === "en") { last.appendChild(key("⇧", "shift", "wide shift")); }
      if (name === "fa") { last.appendChild(key("‌", "\u200c", "zwnj")); }
      last.appendChild(key("␣", " ", "space"));
      last.appendChild(key("⌫", "back", "wide"));
      container.appendChild(last);
      paintCase();
    }
    draw(LAYOUTS[layout] ? layout : "en");
    container.addEventListener("click", function (e) {
      var b = e.target.closest(".key");
      if (!b) { return; }
      if (b.dataset.key === "layout") { draw(NEXT[container.dataset.layout]); return; }
      if (b.dataset.key === "shift") { upper = !upper; paintCase(); return; }
      var letter = !!b.dataset.letter;
      onKey(b.dataset.key);
      if (letter && upper) { upper = false; paintCase(); }
    });
    return {
      use: draw,
      setShift: function (on) { upper = !!on; paintCase(); }
    };
  }

  window.KioskKeys = { keypad: keypad, keyboard: keyboard, digits: DIGITS };
})();
