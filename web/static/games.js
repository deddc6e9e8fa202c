// Draws and the instant-win game, opened from the balance screen: buying an entry (one idempotency key per
// confirmation, so a retried request never charges twice), spinning the wheel, and the balance's badges and
// draw wins. Everything lives in the page core's shopper state, so the idle timeout clears it like the rest.
(function () {
  "use strict";
  var K = window.Kiosk, handlers = K.handlers, msg = K.msg, fmt = K.fmt, render = K.render, fill = K.fill, post = K.post;
  function st() { return K.state(); }
  function named(item) { return (item.names && item.names[K.lang]) || item.name; }
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function why(data) {
    var el = K.stage.querySelector(".error, .why");
    if (el) { el.textContent = K.explain(data); el.hidden = false; }
  }

  // The balance screen gains the member's badges, a draw won since the last tap, and the way in.
  var renderBalance = K.renderBalance;
  K.renderBalance = function (data, earned) {
    renderBalance(data, earned);
    st().balanceData = data;
    var root = K.stage, list = root.querySelector(".badges");
    (data.badges || []).forEach(function (b) {
      var li = document.createElement("li");
      li.dataset.badge = b;
      li.textContent = msg("badge_" + b);
      list.appendChild(li);
    });
    list.hidden = !(data.badges || []).length;
    var wins = data.draw_wins || st().drawWins || [];
    st().drawWins = wins;  // a repaint of the same shopper keeps telling it
    var told = root.querySelector(".draw-wins");
    told.textContent = wins.map(function (w) { return msg("draw_won", { prize: w.prize, name: named(w) }); }).join(" ");
    told.hidden = !wins.length;
  };

  handlers.engage = function () {
    post("/api/engagement/offers", { session: st().session }).then(function (r) {
      if (!r.ok) { K.notice(msg("error"), K.explain(r.data)); return; }
      st().offers = r.data;
      var root = render("t-engage", { points: r.data.points });
      var draws = root.querySelector(".draws"), games = root.querySelector(".games");
      r.data.draws.forEach(function (d, i) {
        var item = fill(document.getElementById("t-draw-item").content.cloneNode(true), {
          name: named(d), prizes: d.prizes.join(K.lang === "en" ? ", " : "، "), price_points: d.price_points,
          hash: d.seed_hash.slice(0, 16) + "…", held: d.entries ? msg("draw_entries_held", { n: fmt(d.entries) }) : "" });
        item.querySelector("button").dataset.index = String(i);
        draws.appendChild(item);
      });
      r.data.games.forEach(function (g, i) {
        var item = fill(document.getElementById("t-game-item").content.cloneNode(true),
                        { name: named(g), cost_points: g.cost_points, free_plays: g.free_plays || 0 });
        item.querySelectorAll("button").forEach(function (b) {
          b.dataset.index = String(i);
          b.disabled = !g.prizes_left;
        });
        item.querySelector(".free-play").hidden = !g.free_plays;  // plays earned by purchases, free of points
        games.appendChild(item);
      });
      root.querySelector('[data-none="engage"]').hidden = (r.data.draws.length + r.data.games.length) > 0;
      root.querySelector(".why").hidden = true;
    });
  };
  handlers["engage-back"] = function () { if (st().balanceData) { K.renderBalance(st().balanceData); } else { K.clear(); } };

  handlers["draw-buy"] = function (button) {
    var d = st().offers.draws[Number(button.dataset.index)];
    st().draw = d;
    st().entryKey = newKey();  // one key per confirmation: the same tap of "Yes" sent twice is one purchase
    render("t-draw-confirm", { name: named(d), price_points: d.price_points });
  };
  handlers["draw-confirm"] = function (button) {
    var d = st().draw;
    button.disabled = true;
    post("/api/engagement/draws/enter", { session: st().session, draw_id: d.draw_id, count: 1, key: st().entryKey })
      .then(function (r) {
        button.disabled = false;
        if (!r.ok) { why(r.data); return; }
        render("t-draw-bought", { name: named(d), total: r.data.total, balance: r.data.balance, hash: d.seed_hash });
      });
  };

  handlers["game-open"] = function (button) {
    var g = st().offers.games[Number(button.dataset.index)];
    st().game = g;
    st().earned = button.dataset.action === "game-open-free";
    st().playKey = newKey();
    var root = render("t-game", { name: named(g), cost_points: g.cost_points });
    root.querySelector(".paid").hidden = st().earned;
    root.querySelector(".earned").hidden = !st().earned;
  };
  handlers["game-open-free"] = function (button) { handlers["game-open"](button); };  // a spin a purchase earned
  handlers["game-spin"] = function (button) {
    var wheel = K.stage.querySelector(".wheel");
    button.disabled = true;
    post("/api/engagement/games/play", { session: st().session, game_id: st().game.game_id, play_id: st().playKey,
                                         earned: st().earned === true })
      .then(function (r) {
        if (!r.ok) { button.disabled = false; why(r.data); return; }
        wheel.classList.add("spinning");
        var shown = false;
        function result() {
          if (shown) { return; }
          shown = true;
          var root = render("t-game-result", { prize: r.data.won ? named({ name: r.data.prize, names: r.data.prize_names }) : "",
                                               code: r.data.code || "", balance: r.data.balance });
          root.querySelectorAll(r.data.won ? ".won" : ".lost").forEach(function (el) { el.hidden = false; });
          if (r.data.won) { root.querySelector("img.qr").src = r.data.qr; }
          K.stage.dataset.tone = r.data.won ? "ok" : "";
        }
        wheel.addEventListener("animationend", result);
        setTimeout(result, 2500);  // a browser that skips the animation still shows the result
      });
  };
})();
