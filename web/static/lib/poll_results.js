/* poll_results.js: a poll's results drawn from its tally, shared by the viewer page, the console,
 * the presenter and the screens.
 * Every function takes opts: {big: screen sizes, say: key -> text or node (bilingual screens),
 * into: the node drawn last time (bars are updated in place so they animate)}. */
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { results as rankingResults } from "./ranking.js";

function sayOf(opts) {
  return (opts && opts.say) || t;
}

function entriesOf(tally) {
  return Object.keys(tally || {}).map(function (w) { return [w, tally[w]]; })
    .sort(function (a, b) { return (b[1] - a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0); });
}

/* Bars for a poll's tally: one row per option (or per word), sorted as the poll defines. */
export function tallyBars(poll, tally, options) {
  options = options || {};
  tally = tally || {};
  var entries = poll.kind === "word_cloud" || poll.kind === "open_text"
    ? entriesOf(tally)
    : (options.order || poll.options || []).map(function (o) { return [o, tally[o] || 0]; });
  var total = entries.reduce(function (sum, e) { return sum + e[1]; }, 0);
  var most = entries.reduce(function (m, e) { return Math.max(m, e[1]); }, 0);
  // multiple choice: a share of the voters (ballots), not of all ticks, so 3 of 13 voters is 23%
  var base = poll.kind === "multiple_choice" && poll.ballots > 0 ? Math.max(poll.ballots, most) : total;
  var correct = poll.correct || [];
  var keys = entries.map(function (e) { return e[0]; }).join("\u0000");
  var previous = options.into;
  var reuse = previous && previous.classList && previous.classList.contains("tally") &&
    previous.dataset.poll === poll.id && previous.dataset.keys === keys;
  var list = reuse ? previous : el("ul", { class: "tally" + (options.big ? " tally-big" : ""), dataset: { poll: poll.id, keys: keys } });
  entries.forEach(function (entry, index) {
    var share = base ? Math.round((entry[1] / base) * 100) : 0;
    var isCorrect = correct.indexOf(entry[0]) >= 0;
    var row = reuse ? list.children[index] : null;
    if (!row) {
      row = el("li", { class: "tally-row", dataset: { option: entry[0] } },
        el("span", { class: "tally-label", dir: "auto" }),
        el("span", { class: "tally-value" }),
        el("span", { class: "tally-track" }, el("span", { class: "tally-bar" })));
      row.querySelector(".tally-bar").style.width = "0%";
      list.appendChild(row);
    }
    row.className = "tally-row" + (most && entry[1] === most && !correct.length ? " tally-top" : "") +
      (isCorrect ? " tally-correct" : "") + (correct.length && !isCorrect ? " tally-wrong" : "") +
      (options.mine && options.mine.indexOf(entry[0]) >= 0 ? " tally-mine" : "");
    row.dataset.count = String(entry[1]);
    var label = (isCorrect ? "✓ " : "") + (options.labels ? options.labels(entry[0]) : entry[0]);
    if (row.children[0].textContent !== label) row.children[0].textContent = label;
    row.children[1].textContent = entry[1] + (total ? " · " + share + "%" : "");
    var bar = row.children[2].firstChild;
    var width = (total && entry[1] ? Math.max(2, (entry[1] / (options.relative ? most : base)) * 100) : 0) + "%";
    if (reuse) bar.style.width = width;
    else requestAnimationFrame(function () { requestAnimationFrame(function () { bar.style.width = width; }); });
  });
  return list;
}

/* A word cloud: words sized by how often they were given. */
export function wordCloud(tally, options) {
  var words = entriesOf(tally);
  var most = words.length ? words[0][1] : 1;
  var big = options && options.big;
  var cloud = el("p", { class: "word-cloud" + (big ? " word-cloud-big" : "") });
  words.forEach(function (word, index) {
    var size = (big ? 1.4 : 1) * (1 + (big ? 2.6 : 1.6) * (word[1] / most));
    var span = el("span", { class: "word word-" + (index % 5), dir: "auto", text: word[0], title: String(word[1]), dataset: { count: String(word[1]) } });
    span.style.fontSize = size.toFixed(2) + "em";
    cloud.appendChild(span);
    cloud.appendChild(document.createTextNode(" "));
  });
  if (!words.length && options && options.empty) cloud.appendChild(el("span", { class: "muted" }, options.empty));
  return cloud;
}

/* A rating poll: the average, big, and how the votes spread over 1..5 stars. */
export function average(tally) {
  var n = 0;
  var sum = 0;
  Object.keys(tally || {}).forEach(function (k) { n += tally[k]; sum += Number(k) * tally[k]; });
  return n ? sum / n : null;
}

export function stars(value) {
  var full = Math.round(value || 0);
  return "★★★★★".slice(0, full) + "☆☆☆☆☆".slice(0, 5 - full);
}

export function ratingSummary(poll, tally, options) {
  options = options || {};
  var mean = average(tally);
  var box = el("div", { class: "rating" + (options.big ? " rating-big" : "") });
  box.appendChild(el("div", { class: "rating-average" },
    el("span", { class: "rating-number", text: mean === null ? "–" : mean.toFixed(1) }),
    el("span", { class: "rating-stars", "aria-hidden": "true", text: stars(mean) }),
    el("span", { class: "rating-caption" }, sayOf(options)("Average rating"))));
  var bars = tallyBars(poll, tally, {
    big: options.big,
    into: options.into && options.into.querySelector ? options.into.querySelector(".tally") : null,
    order: ["5", "4", "3", "2", "1"],
    labels: function (o) { return o + " ★"; },
    relative: true,
  });
  box.appendChild(bars);
  return box;
}

/* Open text: the wall of answers a moderator approved (the tally's keys). */
export function answerWall(tally, options) {
  var wall = el("ul", { class: "answer-wall" + (options && options.big ? " answer-wall-big" : "") });
  entriesOf(tally).forEach(function (entry, index) {
    wall.appendChild(el("li", { class: "answer-card answer-" + (index % 5), dir: "auto" },
      el("span", { class: "answer-text", text: entry[0] }),
      entry[1] > 1 ? el("span", { class: "answer-count", text: "×" + entry[1] }) : null));
  });
  return wall;
}

/* A quiz's fastest correct answers. */
export function leaderboard(leaders, options) {
  var say = sayOf(options);
  var box = el("div", { class: "leaderboard" + (options && options.big ? " leaderboard-big" : "") },
    el("p", { class: "leaderboard-title" }, say("Fastest correct answers")));
  var big = options && options.big; // the screen's big board numbers its list items itself
  var list = el("ol", { class: "leaderboard-list" + (big ? "" : " leaderboard-ranked") });
  (leaders || []).forEach(function (leader, index) {
    list.appendChild(el("li", { class: "leader" },
      big ? null : el("span", { class: "leader-rank", text: index + 1 + "." }),
      el("span", { class: "leader-name", dir: "auto", text: leader.name || t("Anonymous") }),
      el("span", { class: "leader-time", text: Number(leader.seconds).toFixed(1) + " s" })));
  });
  if (!(leaders || []).length) box.appendChild(el("p", { class: "leaderboard-empty" }, say("No correct answers yet.")));
  else box.appendChild(list);
  return box;
}

/* The results of a poll of any kind, drawn from a tally. */
export function pollResults(poll, tally, options) {
  options = options || {};
  if (poll.kind === "word_cloud") return wordCloud(tally, options);
  if (poll.kind === "open_text") return answerWall(tally, options);
  if (poll.kind === "rating") return ratingSummary(poll, tally, options);
  if (poll.kind === "ranking") return rankingResults(poll, tally, options);
  return tallyBars(poll, tally, options);
}
