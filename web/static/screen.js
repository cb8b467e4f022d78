/* screen.js: the venue screen. One scene at a time, the one the server says it shows
 * (settings.shown: the moderator's choice, or on "auto" the open poll, else the highlighted
 * question, else the invitation to join). "idle" shows the room, its sessions and how many people
 * follow along.
 * It runs unattended: it reconnects forever, never shows an error and needs no clicks. */
import { el, readJSON, scheduler, scriptData } from "./lib/dom.js";
import { ballots, tIn } from "./lib/i18n.js";
import { leaderboard, pollResults } from "./lib/poll_results.js";
import { followRoom } from "./lib/room.js";
import * as Quiz from "./lib/quiz.js";
import * as Ranking from "./lib/ranking.js";
import * as P from "./lib/screen_parts.js";

var roomSlug = scriptData(import.meta.url).room;
var info = readJSON("room-info");
var say = new P.Say(info.screen_language || "both");
var sayKey = say.bind();
var state = { settings: {}, questions: new Map(), polls: new Map() };
var schedule = scheduler(render);
var qrSource = document.querySelector("#join-qr-source svg");

followRoom(roomSlug, "screen", state, { changed: schedule }, { quiet: true }); // errors and acks are never shown on a screen

// Sessions move on and people come and go: the room's facts are fetched again every 15 s.
P.every("/api/rooms/" + encodeURIComponent(roomSlug), 15, function (data) {
  info = Object.assign({}, info, { now: data.now, next: data.next, connections: data.connections, topic: data.topic });
  drawn.join = drawn.idle = null;
  schedule();
})();

var scenes = {};
document.querySelectorAll(".scene").forEach(function (node) { scenes[node.dataset.scene] = node; });
var drawn = {}; // scene -> key of what it shows, so unchanged scenes are not redrawn

function show(name) {
  Object.keys(scenes).forEach(function (key) { scenes[key].hidden = key !== name; });
  document.body.dataset.scene = name;
}

/* What to show is decided by the server (settings.shown, live/domain/room.py screen_shows):
 * the screen only looks up the question or poll it names, and shows the invitation when that is
 * not here (yet). */
function pick() {
  var shown = state.settings.shown || { scene: "join" };
  if (shown.scene === "idle") return { name: "idle" };
  var question = state.questions.get(shown.question_id || "");
  var poll = state.polls.get(shown.poll_id || "");
  if (shown.scene === "question" && question) return { name: "question", question: question };
  if (shown.scene === "poll" && poll) return { name: "poll", poll: poll };
  return { name: "join" };
}

function render() {
  var chosen = pick();
  try {
    if (chosen.name === "question") drawQuestion(chosen.question);
    else if (chosen.name === "poll") drawPoll(chosen.poll);
    else if (chosen.name === "idle") drawIdle();
    else drawJoin();
  } catch (e) {
    chosen = { name: "join" }; // never a broken scene: fall back to the invitation
    drawn.join = null;
    drawJoin();
  }
  show(chosen.name);
}

/* Text sizes below are in pixels of a 1920x1080 screen: a smaller one (1280x720) gets the same
 * layout in proportion, as its CSS sizes (in vw and vh) do. */
function screenScale() {
  return Math.min(window.innerWidth / 1920, window.innerHeight / 1080) || 1;
}

function atScale(sizes) {
  var scale = screenScale();
  return sizes.map(function (size) { return size * scale; });
}

function drawJoin() {
  var key = JSON.stringify([info.now, info.next]);
  if (drawn.join === key) return;
  drawn.join = key;
  scenes.join.replaceChildren(P.joinScene(say, info, qrSource));
  show("join");
  P.fitJoin(scenes.join);
}

function drawIdle() {
  var key = JSON.stringify([info.now, info.next, info.connections]);
  if (drawn.idle === key) return;
  drawn.idle = key;
  scenes.idle.replaceChildren(
    el("div", { class: "idle-main" },
      el("h1", { class: "idle-title" }, say.name(info.name)),
      info.topic ? el("p", { class: "idle-topic" }, say.name(info.topic)) : null,
      P.nowNext(say, info)),
    el("div", { class: "idle-side" },
      el("p", { class: "idle-count", text: String(info.connections || 0) }),
      el("p", { class: "idle-count-label" }, say.t("People following along"))));
  show("idle");
  P.fitBlock(scenes.idle.querySelector(".idle-main"));
}

function drawQuestion(question) {
  var key = JSON.stringify([question.id, question.text, question.author_name, question.votes]);
  if (drawn.question === key) return;
  drawn.question = key;
  var text = el("p", { id: "screen-question-text", dir: "auto", text: question.text });
  var quote = el("blockquote", { class: "screen-question" }, text);
  scenes.question.replaceChildren(
    el("p", { class: "scene-label" }, say.t("Now answering")),
    quote,
    el("p", { class: "screen-question-meta" },
      question.author_name ? el("span", { id: "screen-question-author", dir: "auto", text: question.author_name }) : null,
      el("span", { id: "screen-question-votes", class: "screen-votes", text: "▲ " + question.votes })));
  show("question");
  var length = question.text.length;
  var start = length < 60 ? 104 : length < 140 ? 88 : length < 260 ? 72 : 60;
  P.fit(text, quote, atScale([start, start - 8, start - 16, 52, 46, 40, 36, 32, 28]));
}

// -- polls: the frame is drawn once per poll; the results update in place so bars animate ----
var pollParts = null;

function pollFrame(poll) {
  var parts = { id: poll.id };
  parts.label = el("p", { class: "scene-label" });
  parts.heading = el("h1", { id: "screen-poll-question", class: "screen-poll-question", dir: "auto", text: poll.question });
  parts.results = el("div", { id: "screen-poll-results", class: "screen-poll-results" });
  parts.side = el("aside", { class: "screen-poll-side", hidden: true });
  parts.footer = el("p", { id: "screen-poll-footer", class: "screen-poll-footer" });
  scenes.poll.replaceChildren(parts.label, parts.heading,
    el("div", { class: "screen-poll-body" }, parts.results, parts.side), parts.footer);
  return parts;
}

function drawPoll(poll) {
  if (!pollParts || pollParts.id !== poll.id) {
    pollParts = pollFrame(poll);
    pollParts.shape = null;
  }
  var parts = pollParts;
  if (parts.heading.textContent !== poll.question) parts.heading.textContent = poll.question;
  var kindLabel = { quiz: "Quiz", word_cloud: "Word cloud", rating: "Rating", open_text: "Open question", ranking: "Ranking" }[poll.kind] || "Poll";
  var labelKey = kindLabel + "|" + poll.status;
  if (parts.labelKey !== labelKey) {
    parts.labelKey = labelKey;
    parts.label.replaceChildren(say.t(kindLabel, true));
  }

  var tally = poll.tally; // null while the server keeps it hidden (tally_hidden_until says till when)
  // hidden results: the choices are drawn once, and again only when what the note says changes
  var shape = tally ? poll.kind : "hidden|" + poll.tally_hidden_until;
  var current = parts.results.firstChild;
  if (shape !== parts.shape) current = null;
  parts.shape = shape;
  var next;
  if (!tally) {
    next = current || pendingChoices(poll);
  } else {
    next = pollResults(poll, tally, {
      big: true,
      say: sayKey,
      into: current,
      empty: poll.kind === "open_text" ? null : say.t("No words yet."),
      points: pointsNode,
    });
    if (poll.kind === "open_text" && !Object.keys(tally).length) {
      next = el("p", { class: "screen-poll-hidden" }, say.t("Approved answers appear here."));
      parts.shape = "empty";
    }
  }
  if (next !== current) parts.results.replaceChildren(next);

  var leaders = poll.kind === "quiz" && poll.correct;
  parts.side.hidden = !leaders;
  if (leaders) {
    var leadersKey = JSON.stringify([poll.leaders || [], poll.standings || []]);
    if (parts.leadersKey !== leadersKey) {
      parts.leadersKey = leadersKey;
      parts.side.replaceChildren(quizBoard(poll));
    }
  }

  var footerKey = [poll.ballots, poll.status].join("|");
  if (parts.footerKey !== footerKey) {
    parts.footerKey = footerKey;
    // the address once, after the words in each language: one line, even on a 720p screen
    var open = poll.status === "open";
    parts.footer.replaceChildren(say.each(function (language, t) {
      var count = ballots(poll.ballots, language);
      return count + " · " + (open ? t("Vote now at") : t("This poll is closed."));
    }, true), open ? el("span", { class: "screen-poll-url", text: " " + info.url }) : "");
  }
  show("poll");
  // Measured once the scene shows and the heading has its size: what is left is the results' room.
  P.fit(parts.heading, parts.heading, atScale([68, 60, 54, 48, 42, 36]));
  if (poll.kind === "word_cloud" && tally) fitCloud(next, parts.results);
  else if (poll.kind === "open_text" && tally) fitWall(next, parts.results);
  else if (next.classList.contains("ranking-result")) fitRows(next, parts.results, null);
  else if (poll.kind === "rating" && tally) P.fit(next, parts.results, atScale([24, 22, 20, 18, 16, 14]));
  else if (next.classList.contains("tally") || next.classList.contains("screen-poll-pending")) {
    fitRows(next, parts.results, next.classList.contains("tally") ? next : next.querySelector(".screen-choices"));
  }
  if (leaders) fitLeaders(parts.side);
}

var CHOICE_KINDS = ["single_choice", "multiple_choice", "quiz", "rating", "ranking"];

/* "12 points" in each of the screen's languages (a ranking's result, a quiz's leaderboard). */
function pointsNode(points) {
  return say.each(function (language) { return Ranking.pointsIn(language, points); }, true);
}

/* A revealed quiz: its series' leaderboard (quiz.js), names wrapping rather than cut; before
 * anyone has points, the fastest correct answers of this question. */
function quizBoard(poll) {
  if (!(poll.standings || []).length) return leaderboard(poll.leaders, { big: true, say: sayKey });
  return Quiz.standingsBoard(poll.standings, {
    big: true,
    say: sayKey,
    // One line a player: with two languages the number alone (a stacked "990 分 / 990 points"
    // doubled each row's height, so only 2 of 10 players fitted at 1080p); with one, its words.
    points: function (points) {
      if (say.languages.length > 1) return el("span", { class: "mono", text: String(points) });
      return Ranking.pointsIn(say.languages[0], points);
    },
    name: function (standing) { return Quiz.playerName(standing, function (key) { return tIn(say.languages[0], key); }); },
  });
}

/* Results not shown yet: the choices, without counts, so the hall knows what it votes on, and a
 * line saying when results appear, as the server says. The screen never votes, so results that
 * wait for a vote reach it when the poll closes (or when a moderator reveals them). */
function pendingChoices(poll) {
  var afterVote = poll.tally_hidden_until === "vote";
  var note = el("p", { class: "screen-poll-hidden" },
    say.t(afterVote ? "Results appear when the poll closes." : "Results are shown when the moderator reveals them."));
  var options = CHOICE_KINDS.indexOf(poll.kind) >= 0 ? poll.options || [] : [];
  if (!options.length) return note;
  var rating = poll.kind === "rating";
  var list = el("ul", { class: "screen-choices" + (rating ? " screen-choices-rating" : "") });
  options.forEach(function (option) {
    list.appendChild(el("li", { class: "screen-choice", dataset: { option: option } },
      el("span", { class: "screen-choice-text", dir: "auto", text: rating ? option + " ★" : option })));
  });
  return el("div", { class: "screen-poll-pending" }, list, note);
}

/* Every option at once, never scrolled: one column whose text shrinks a little, then two
 * columns (many options), shrinking further but still legible from the back of the hall.
 * Long options wrap to two lines and are cut there (style.css). */
var ROW_LAYOUTS = [[1, 24], [1, 22], [1, 20], [1, 18], [2, 20], [2, 18], [2, 16], [2, 14]];

function fitRows(node, box, list) {
  var count = list ? list.children.length : 0;
  var rating = list && list.classList.contains("screen-choices-rating");
  for (var i = 0; i < ROW_LAYOUTS.length; i++) {
    var columns = rating ? 1 : ROW_LAYOUTS[i][0];
    node.style.fontSize = ROW_LAYOUTS[i][1] * screenScale() + "px";
    if (list) {
      list.classList.toggle("screen-cols-2", columns === 2);
      list.style.gridTemplateRows = columns === 2 ? "repeat(" + Math.ceil(count / 2) + ", auto)" : "";
    }
    if (box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1) return;
  }
}

/* The fastest correct answers: smaller when many, and never a row cut in half: the rows that
 * do not fit whole are left out (the fastest come first). */
function fitLeaders(side) {
  var board = side.firstChild;
  var list = board && board.querySelector(".leaderboard-list");
  if (!list) return;
  var rows = Array.prototype.slice.call(list.children);
  rows.forEach(function (row) { row.hidden = false; });
  function bottom() {
    return board.getBoundingClientRect().bottom - parseFloat(getComputedStyle(board).paddingBottom) + 0.5;
  }
  // Names wrap between words rather than being cut; a word too long for the row makes the
  // board smaller first, and breaks only at the smallest size. Smaller before fewer rows.
  var names = Array.prototype.slice.call(list.querySelectorAll(".leader-name"));
  function wordsFit() {
    return names.every(function (name) { return name.scrollWidth <= name.clientWidth + 1; });
  }
  list.classList.remove("leaderboard-break-words");
  var sizes = [40, 36, 32, 28, 24];
  for (var i = 0; i < sizes.length; i++) {
    list.style.fontSize = sizes[i] + "px";
    if (!wordsFit()) continue;
    if (!rows.length || rows[rows.length - 1].getBoundingClientRect().bottom <= bottom()) return;
  }
  if (!wordsFit()) list.classList.add("leaderboard-break-words");
  var shown = rows.length;
  while (shown > 1 && rows[shown - 1].getBoundingClientRect().bottom > bottom()) rows[--shown].hidden = true;
}

/* The cloud grows to fill the stage, and shrinks when many words would overflow it. */
function fitCloud(cloud, box) {
  for (var size = 40; size >= 12; size -= 4) {
    cloud.style.fontSize = size * screenScale() + "px";
    if (box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1) return;
  }
}

function fitWall(wall, box) {
  for (var size = 52; size >= 14; size -= 4) {
    wall.style.fontSize = size * screenScale() + "px";
    if (box.scrollHeight <= box.clientHeight + 1) return;
  }
}

render();
