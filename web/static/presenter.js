/* presenter.js: the speaker's view, on a tablet at the lectern or a confidence monitor. What the
 * speaker needs at a glance, large: the question being answered, the next approved questions by
 * votes, the time left in the session (the event file's agenda), the open poll's result and the
 * moderators' private note. It only reads the room: there is nothing on it to press.
 * The presenter audience is the public one plus the note (docs/API.md), so pending questions
 * never reach it. */
import { el, readJSON, scheduler, scriptData } from "./lib/dom.js";
import { ballots, fill, t } from "./lib/i18n.js";
import { pollResults } from "./lib/poll_results.js";
import { followRoom, sortQuestions } from "./lib/room.js";
import * as P from "./lib/screen_parts.js";

var script = scriptData(import.meta.url);
var roomSlug = script.room;
var nameLanguage = script.lang === "zh" ? "zh" : "en";
var info = readJSON("room-info");
var state = { settings: {}, questions: new Map(), polls: new Map(), presenterNote: null };
var schedule = scheduler(render);

// The agenda's times are the event's local time; the server said what that is when the page
// loaded, so a tablet with another time zone or a wrong clock still counts down correctly.
var clock = readJSON("event-clock");
var localOffset = clock.local_now ? Date.parse(clock.local_now + "Z") - Date.now() : 0;
var clockSkew = clock.now ? clock.now * 1000 - Date.now() : 0; // the note's "sent at" is the server's
function eventNow() { return Date.now() + localOffset; }
function localTime(iso) { return Date.parse(iso + "Z"); }

function nameOf(names) {
  return names ? names[nameLanguage] || names.en || names.zh || "" : "";
}
// Sizes are set for a 1280x800 tablet and grow with the window (a 1920x1080 monitor).
function scale() {
  return Math.max(0.75, Math.min(window.innerWidth / 1280, window.innerHeight / 800));
}
function sizes(list) {
  var factor = scale();
  return list.map(function (size) { return Math.round(size * factor); });
}

followRoom(roomSlug, "presenter", state, { changed: schedule }, { quiet: true });

// The session moves on: the room's now/next are fetched again every 15 s.
P.every("/api/rooms/" + encodeURIComponent(roomSlug), 15, function (data) {
  info = Object.assign({}, info, { now: data.now, next: data.next });
  tick();
})();

var nodes = {
  session: document.getElementById("presenter-session"),
  clock: document.getElementById("presenter-clock"),
  timeLeft: document.getElementById("presenter-time-left"),
  timeLabel: document.getElementById("presenter-time-label"),
  note: document.getElementById("presenter-note"),
  noteText: document.getElementById("presenter-note-text"),
  noteAge: document.getElementById("presenter-note-age"),
  questionBox: document.getElementById("presenter-question-box"),
  question: document.getElementById("presenter-question"),
  questionMeta: document.getElementById("presenter-question-meta"),
  next: document.getElementById("presenter-next-list"),
  poll: document.getElementById("presenter-poll"),
  pollLabel: document.getElementById("presenter-poll-label"),
  pollQuestion: document.getElementById("presenter-poll-question"),
  pollResults: document.getElementById("presenter-poll-results"),
  pollFooter: document.getElementById("presenter-poll-footer"),
};
var drawn = {}; // part -> key of what it shows: unchanged parts are not redrawn
// What changes the room each part has: the window, and the note's band above them.
function layout() {
  return window.innerWidth + "x" + window.innerHeight + "|" + (nodes.note.hidden ? "" : nodes.noteText.textContent);
}

function render() {
  drawNote();
  drawPoll(); // before the questions: the poll takes its room from the list of next questions
  drawQuestion();
  drawNext();
  tick();
}

// -- the moderators' note: a bright band across the top, flashed when it changes ------------
function drawNote() {
  var note = state.presenterNote;
  var shown = note ? note.text + "|" + note.at : "";
  var key = shown + "|" + window.innerWidth + "x" + window.innerHeight;
  if (drawn.note === key) return;
  var fresh = drawn.noteShown !== undefined && note && drawn.noteShown !== shown;
  drawn.note = key;
  drawn.noteShown = shown;
  nodes.note.hidden = !note;
  nodes.noteText.textContent = note ? note.text : "";
  if (note) P.fit(nodes.noteText, nodes.noteText, sizes([40, 36, 32, 28]));
  if (fresh) {
    nodes.note.classList.remove("presenter-note-new");
    void nodes.note.offsetWidth; // restart the animation
    nodes.note.classList.add("presenter-note-new");
  }
}

// -- the question being answered ------------------------------------------------------------
function drawQuestion() {
  var question = state.questions.get(state.settings.answering_question_id || "");
  var key = question ? JSON.stringify([question.id, question.text, question.author_name, question.votes]) : "";
  key += "|" + layout();
  if (drawn.question === key) return;
  drawn.question = key;
  nodes.questionBox.classList.toggle("presenter-question-none", !question);
  nodes.question.textContent = question ? question.text : t("No question is being answered.");
  nodes.questionMeta.replaceChildren();
  if (question) {
    if (question.author_name) nodes.questionMeta.appendChild(el("span", { class: "presenter-author", dir: "auto", text: question.author_name }));
    nodes.questionMeta.appendChild(el("span", { class: "presenter-votes", text: "▲ " + question.votes }));
  }
  var length = question ? question.text.length : 0;
  var start = length < 80 ? 72 : length < 180 ? 64 : 56;
  P.fit(nodes.question, nodes.questionBox, sizes(question ? [start, start - 8, 48, 44, 40, 36, 32, 28, 24] : [36]));
}

// -- the next approved questions, most votes first; only whole rows, never one cut in half ---
function drawNext() {
  var answering = state.settings.answering_question_id;
  var waiting = [];
  state.questions.forEach(function (q) { if (q.status === "live" && q.id !== answering) waiting.push(q); });
  var shown = sortQuestions(waiting, "popular").slice(0, 6);
  var key = JSON.stringify(shown.map(function (q) { return [q.id, q.text, q.votes]; })) +
    "|" + nodes.poll.hidden + "|" + layout();
  if (drawn.next === key) return;
  drawn.next = key;
  if (!shown.length) {
    nodes.next.replaceChildren(el("li", { class: "presenter-next-empty", text: t("No approved questions yet.") }));
    return;
  }
  nodes.next.replaceChildren.apply(nodes.next, shown.map(function (q) {
    return el("li", { class: "presenter-next-item", dataset: { id: q.id } },
      el("span", { class: "presenter-next-votes", text: "▲ " + q.votes }),
      el("span", { class: "presenter-next-text", dir: "auto", text: q.text }));
  }));
  var rows = Array.prototype.slice.call(nodes.next.children);
  var bottom = nodes.next.getBoundingClientRect().bottom + 0.5;
  for (var i = rows.length - 1; i > 0 && rows[i].getBoundingClientRect().bottom > bottom; i--) rows[i].hidden = true;
}

// -- the poll on screen (else an open one), with its result as the public sees it ----------
function currentPoll() {
  var active = state.polls.get(state.settings.active_poll_id || "");
  if (active && active.status !== "draft") return active;
  var open = null;
  state.polls.forEach(function (p) { if (!open && p.status === "open") open = p; });
  return open;
}

function drawPoll() {
  var poll = currentPoll();
  nodes.poll.hidden = !poll;
  if (!poll) { drawn.poll = null; return; }
  var key = JSON.stringify([poll.id, poll.status, poll.question, poll.tally, poll.ballots, poll.tally_hidden_until,
    layout()]);
  if (drawn.poll === key) return;
  var samePoll = drawn.pollId === poll.id;
  drawn.poll = key;
  drawn.pollId = poll.id;
  nodes.pollLabel.textContent = t(poll.status === "open" ? "Open poll" : "Closed poll");
  nodes.pollQuestion.textContent = poll.question;
  var current = samePoll ? nodes.pollResults.firstChild : null;
  var next;
  if (!poll.tally) {
    next = el("p", { class: "presenter-poll-hidden", text: t(poll.tally_hidden_until === "vote"
      ? "Results appear when the poll closes." : "Results are shown when the moderator reveals them.") });
  } else if (CHOICE_KINDS.indexOf(poll.kind) >= 0) {
    next = choiceRows(poll, poll.tally);
  } else {
    next = pollResults(poll, poll.tally, { big: true, into: current, empty: t("No words yet.") });
  }
  if (next !== current) nodes.pollResults.replaceChildren(next);
  var count = ballots(poll.ballots);
  nodes.pollFooter.textContent = count + (poll.status === "open" ? "" : " · " + t("This poll is closed."));
  // As large as fits, every option whole: nothing overflows and no label is cut short.
  var box = nodes.pollResults;
  var labels = box.querySelectorAll(".presenter-tally-label");
  var steps = sizes([28, 26, 24, 22, 20, 18, 16, 14]);
  for (var i = 0; i < steps.length; i++) {
    box.style.fontSize = steps[i] + "px";
    var whole = Array.prototype.every.call(labels, function (label) { return label.scrollWidth <= label.clientWidth + 1; });
    if (whole && box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1) break;
  }
}

/* A choice poll's result in one line per option (label, bar, count and share), so that every
 * option fits beside the questions; the bars grow as votes come in. */
var CHOICE_KINDS = ["single_choice", "multiple_choice", "quiz", "rating"];

function choiceRows(poll, tally) {
  var options = poll.options || [];
  var counts = options.map(function (option) { return tally[option] || 0; });
  var total = counts.reduce(function (sum, n) { return sum + n; }, 0);
  var most = Math.max.apply(null, counts.concat([0]));
  // multiple choice: a share of the voters, as on the other pages
  var base = poll.kind === "multiple_choice" && poll.ballots > 0 ? Math.max(poll.ballots, most) : total;
  var correct = poll.correct || [];
  var list = el("ul", { class: "presenter-tally" });
  options.forEach(function (option, index) {
    var count = counts[index];
    var bar = el("span", { class: "presenter-tally-bar" });
    bar.style.width = (base ? Math.round((count / base) * 100) : 0) + "%";
    var label = (correct.indexOf(option) >= 0 ? "✓ " : "") + (poll.kind === "rating" ? option + " ★" : option);
    list.appendChild(el("li", { class: "presenter-tally-row" + (most && count === most ? " presenter-tally-top" : ""), dataset: { option: option } },
      el("span", { class: "presenter-tally-label", dir: "auto", text: label }),
      el("span", { class: "presenter-tally-track" }, bar),
      el("span", { class: "presenter-tally-value", text: count + (total ? " · " + Math.round((count / base) * 100) + "%" : "") })));
  });
  return list;
}

// -- once a second: the time left, and how old the note is ---------------------------------
function two(n) { return (n < 10 ? "0" : "") + n; }

function duration(ms) {
  var seconds = Math.max(0, Math.ceil(ms / 1000));
  var hours = Math.floor(seconds / 3600);
  var minutes = Math.floor((seconds % 3600) / 60);
  return (hours ? hours + ":" + two(minutes) : String(minutes)) + ":" + two(seconds % 60);
}

function tick() {
  var now = eventNow();
  var session = info.now;
  var upcoming = info.next;
  nodes.session.textContent = session ? nameOf(session.title) : "";
  nodes.clock.hidden = false;
  var left = session ? localTime(session.end) - now : null;
  nodes.clock.dataset.state = left === null ? "none" : left <= 0 ? "over" : left <= 5 * 60 * 1000 ? "soon" : "running";
  nodes.timeLeft.hidden = left === null;
  if (left === null) {
    nodes.timeLabel.textContent = upcoming
      ? fill("Next session at {time}", { time: upcoming.start.slice(11, 16) }) : t("No session running");
  } else {
    nodes.timeLeft.textContent = duration(left);
    nodes.timeLabel.textContent = left > 0 ? t("left in this session") : t("Time is up");
  }
  var note = state.presenterNote;
  if (note) {
    var minutes = Math.floor((Date.now() + clockSkew - note.at * 1000) / 60000);
    nodes.noteAge.textContent = "· " + (minutes < 1 ? t("just now") : fill("{n} min ago", { n: minutes }));
  }
}

setInterval(tick, 1000);
var resized = null;
window.addEventListener("resize", function () { clearTimeout(resized); resized = setTimeout(schedule, 150); });
render();
