/* quiz.js: a quiz as a series (docs/API.md §4.3 "Quiz series"): its leaderboard (places, names,
 * points), a player's own place, and on the viewer page the name a player is asked for when a
 * quiz opens and they have none. Loaded after live.js. */
(function () {
  "use strict";
  var L = window.Live;
  var el = L.el;

  /* A player as the leaderboard names them: their name, or "Anonymous", and the short tag the
   * server adds when the name alone does not tell two players apart. */
  function playerName(standing, t) {
    var name = standing.name || (t || L.t)("Anonymous");
    return standing.tag ? name + " #" + standing.tag : name;
  }

  function pointsIn(language, points) {
    return L.plural("{n} points", points, language);
  }

  /* The series' leaderboard. opts: {big: the venue screen, say: key -> node (bilingual),
   * points: n -> node, name: standing -> text (bilingual "Anonymous")}. */
  function standingsBoard(standings, opts) {
    opts = opts || {};
    var say = opts.say || L.t;
    var box = el("div", { class: "leaderboard quiz-standings" + (opts.big ? " leaderboard-big" : "") },
      el("p", { class: "leaderboard-title" }, say("Quiz leaderboard")));
    if (!(standings || []).length) {
      box.appendChild(el("p", { class: "leaderboard-empty" }, say("No points yet.")));
      return box;
    }
    var list = el("ol", { class: "leaderboard-list leaderboard-ranked quiz-standings-list" });
    standings.forEach(function (standing) {
      list.appendChild(el("li", { class: "leader quiz-standing", dataset: { place: String(standing.place) } },
        el("span", { class: "leader-rank", text: standing.place + "." }),
        el("span", { class: "leader-name", dir: "auto", text: opts.name ? opts.name(standing) : playerName(standing) }),
        el("span", { class: "leader-points" }, opts.points ? opts.points(standing.points) : pointsIn(null, standing.points))));
    });
    box.appendChild(list);
    return box;
  }

  /* "You are 3rd of 12 · 1,450 points": the player's own place, which the top 10 may not show. */
  function ownRank(rank) {
    if (!rank) return null;
    var text = L.t("Your place: {place} of {players} · {points}")
      .replace("{place}", String(rank.place))
      .replace("{players}", String(rank.players))
      .replace("{points}", pointsIn(null, rank.points));
    return el("p", { class: "quiz-own-rank", role: "status", text: text });
  }

  /* Asks a player without a name for one, above the answers (answering at once still counts),
   * so the leaderboard can name them; they may also play without one. save(name) -> Promise
   * (the viewer's /api/me). */
  function namePrompt(save, onDone) {
    var input = el("input", { type: "text", id: "quiz-name", maxlength: "40", autocomplete: "nickname", placeholder: L.t("Your name") });
    var problem = el("p", { class: "form-feedback form-feedback-error", role: "alert" });
    var form = el("form", { class: "quiz-name-form" },
      el("label", { for: "quiz-name", text: L.t("Name for the quiz leaderboard") }),
      input,
      el("div", { class: "vote-actions" },
        el("button", { type: "submit", class: "button button-primary", text: L.t("Save name") }),
        el("button", { type: "button", class: "button button-quiet", text: L.t("Play anonymously"), onclick: function () { onDone(false); } })),
      problem);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = input.value.trim();
      if (!name) { problem.textContent = L.t("Type a name first."); return; }
      save(name).then(function () { onDone(true); }, function (error) { problem.textContent = L.errorText(error); });
    });
    return form;
  }

  window.Quiz = { standingsBoard: standingsBoard, ownRank: ownRank, namePrompt: namePrompt, playerName: playerName };
})();
