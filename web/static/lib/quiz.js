/* quiz.js: a quiz as a series (docs/API.md §4.3 "Quiz series"): its leaderboard (places, names,
 * points), a player's own place, and on the viewer page the name a player is asked for when a
 * quiz opens and they have none. */
import { el } from "./dom.js";
import { errorText, fill, plural, t } from "./i18n.js";

/* A player as the leaderboard names them: their name, or "Anonymous", and the short tag the
 * server adds when the name alone does not tell two players apart. */
export function playerName(standing, say) {
  var name = standing.name || (say || t)("Anonymous");
  return standing.tag ? name + " #" + standing.tag : name;
}

function pointsIn(language, points) {
  return plural("{n} points", points, language);
}

/* The series' leaderboard. opts: {big: the venue screen, say: key -> node (bilingual),
 * points: n -> node, name: standing -> text (bilingual "Anonymous")}. */
export function standingsBoard(standings, opts) {
  opts = opts || {};
  var say = opts.say || t;
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
export function ownRank(rank) {
  if (!rank) return null;
  var text = fill("Your place: {place} of {players} · {points}", { place: rank.place, players: rank.players, points: pointsIn(null, rank.points) });
  return el("p", { class: "quiz-own-rank", role: "status", text: text });
}

/* Asks a player without a name for one, above the answers (answering at once still counts),
 * so the leaderboard can name them; they may also play without one. save(name) -> Promise
 * (the viewer's /api/me). */
export function namePrompt(save, onDone) {
  var input = el("input", { type: "text", id: "quiz-name", maxlength: "40", autocomplete: "nickname", placeholder: t("Your name") });
  var problem = el("p", { class: "form-feedback form-feedback-error", role: "alert" });
  var form = el("form", { class: "quiz-name-form" },
    el("label", { for: "quiz-name", text: t("Name for the quiz leaderboard") }),
    input,
    el("div", { class: "vote-actions" },
      el("button", { type: "submit", class: "button button-primary", text: t("Save name") }),
      el("button", { type: "button", class: "button button-quiet", text: t("Play anonymously"), onclick: function () { onDone(false); } })),
    problem);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = input.value.trim();
    if (!name) { problem.textContent = t("Type a name first."); return; }
    save(name).then(function () { onDone(true); }, function (error) { problem.textContent = errorText(error); });
  });
  return form;
}
