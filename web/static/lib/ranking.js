/* ranking.js: a ranking poll on every page. Its result (the options by Borda points, as the
 * server's tally gives them: docs/API.md §4.3), and on the viewer page the input: a list the
 * participant puts in order with "up" and "down" buttons (keyboard and screen reader friendly,
 * no dragging needed). poll_results.js draws a ranking's result through it. */
import { el } from "./dom.js";
import { fill, plural, t } from "./i18n.js";

/* The options by points, ties in the poll's own order; equal points share a place (the same
 * rule as ranking_order in live/domain/polls.py, on the tally the page was sent). */
export function order(poll, tally) {
  var options = poll.options || [];
  var sorted = options.slice().sort(function (a, b) {
    return ((tally[b] || 0) - (tally[a] || 0)) || (options.indexOf(a) - options.indexOf(b));
  });
  var rows = [];
  sorted.forEach(function (option, index) {
    var points = tally[option] || 0;
    var previous = rows[rows.length - 1];
    rows.push({ option: option, points: points, place: previous && previous.points === points ? previous.place : index + 1 });
  });
  return rows;
}

/* "5 points" in a language (null: the page's). */
export function pointsIn(language, points) {
  return plural("{n} points", points, language);
}

/* The result: place, option, total points and a bar (the leader's points fill it).
 * ``options.points(n)``: the points as a node (a bilingual screen), else in the page's language. */
export function results(poll, tally, options) {
  options = options || {};
  var rows = order(poll, tally || {});
  var most = rows.length ? rows[0].points : 0;
  var list = el("ol", { class: "ranking-result" + (options.big ? " ranking-result-big" : ""), dataset: { poll: poll.id } });
  rows.forEach(function (row) {
    var points = options.points ? options.points(row.points) : pointsIn(null, row.points);
    var bar = el("span", { class: "ranking-bar" });
    bar.style.width = (most ? Math.max(2, (row.points / most) * 100) : 0) + "%";
    list.appendChild(el("li", {
      class: "ranking-row" + (row.place === 1 && most ? " ranking-top" : "") +
        (options.mine && options.mine[0] === row.option ? " ranking-mine" : ""),
      dataset: { option: row.option, points: String(row.points), place: String(row.place) },
    },
      el("span", { class: "ranking-place", text: row.place + "." }),
      el("span", { class: "ranking-option", dir: "auto", text: row.option }),
      el("span", { class: "ranking-points" }, points),
      el("span", { class: "ranking-track" }, bar)));
  });
  return list;
}

/* The input: every option in a list, in the participant's last order (or the poll's), each with
 * buttons to move it. ``collect`` gives the order to send. */
export function input(poll, ballot) {
  var current = ballot && ballot.length === poll.options.length ? ballot.slice() : poll.options.slice();
  var list = el("ol", { class: "ranking-input", "aria-label": t("Your ranking") });
  var status = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });

  function move(from, to, focusClass) {
    var option = current.splice(from, 1)[0];
    current.splice(to, 0, option);
    draw();
    status.textContent = fill("{option}: place {n}", { option: option, n: to + 1 });
    var button = list.children[to].querySelector("." + focusClass);
    (button.disabled ? list.children[to].querySelector("button:not([disabled])") : button).focus();
  }

  function draw() {
    list.replaceChildren();
    current.forEach(function (option, index) {
      list.appendChild(el("li", { class: "ranking-item", dataset: { option: option } },
        el("span", { class: "ranking-place", "aria-hidden": "true", text: index + 1 + "." }),
        el("span", { class: "ranking-option", dir: "auto", text: option }),
        el("button", {
          type: "button", class: "button button-quiet ranking-up", text: "↑",
          "aria-label": fill("Move {option} up", { option: option }),
          disabled: index === 0,
          onclick: function () { move(index, index - 1, "ranking-up"); },
        }),
        el("button", {
          type: "button", class: "button button-quiet ranking-down", text: "↓",
          "aria-label": fill("Move {option} down", { option: option }),
          disabled: index === current.length - 1,
          onclick: function () { move(index, index + 1, "ranking-down"); },
        })));
    });
  }

  draw();
  return {
    node: el("div", { class: "ranking-form" },
      el("p", { class: "muted small", text: t("Put the options in order: your favourite first.") }), list, status),
    collect: function () { return current.slice(); },
  };
}
