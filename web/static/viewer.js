/* viewer.js: the audience's page: ask, upvote, follow "now answering", vote in the active poll. */
import { arrange, el, notice, readJSON, scheduler, scriptData } from "./lib/dom.js";
import { ballots, errorText, fill, t, timeOf } from "./lib/i18n.js";
import { answerWall, leaderboard, pollResults as sharedPollResults, stars, tallyBars } from "./lib/poll_results.js";
import { followRoom, sortQuestions } from "./lib/room.js";
import { postCommand } from "./lib/stream.js";
import * as Quiz from "./lib/quiz.js";
import * as Ranking from "./lib/ranking.js";

var script = scriptData(import.meta.url);
var roomSlug = script.room;

function savedOrder() {
  try { return localStorage.getItem("live.sort"); } catch (e) { return null; } // storage may be off
}

var state = {
  settings: {},
  questions: new Map(), // id -> public question (own pending ones included)
  polls: new Map(),
  upvoted: new Set(),
  ballots: {},
  tallies: {}, // poll id -> tally this participant earned by voting (after_vote polls)
  mine: new Set(),
  order: savedOrder() === "recent" ? "recent" : "popular",
  changingVote: false,
  quizRanks: {}, // series -> this participant's place in it (quiz.js)
  nameAsked: false, // a quiz asked for a name once; the participant answered or declined
  editing: null, // the id of the own pending question being rewritten here
  confirming: null, // the id of the own pending question whose withdrawal awaits a second tap
};

var ARCHIVED = ["dismissed", "merged", "moved"];
var GONE = ["withdrawn"]; // taken back by its asker: shown nowhere, not even to them
var roomNames = readJSON("room-names");
function roomName(slug) {
  return (slug && roomNames[slug]) || slug || "";
}

var list = document.getElementById("question-list");
var answeredList = document.getElementById("answered-list");
var answeredSection = document.getElementById("answered-section");
var cards = new Map(); // question id -> {root, parts...}

var schedule = scheduler(render);

// -- reconnecting: what the page is doing about it, and a way to try at once ----------------
var progress = document.getElementById("live-progress");
var progressText = document.getElementById("live-progress-text");
function showProgress(status, retry) {
  if (status === "live") {
    if (!progress.hidden) notice(t("Back online."));
    progress.hidden = true;
    return;
  }
  if (status !== "reconnecting" || !retry) return;
  progress.hidden = false;
  progressText.textContent = fill("Connection lost. Trying again (try {n})…", { n: retry.attempt });
}

var live = followRoom(roomSlug, "viewer", state, {
  changed: schedule,
  onSnapshot: function (message) {
    var mine = message.mine || {};
    state.upvoted = new Set(mine.upvoted || []);
    state.ballots = mine.ballots || {};
    state.tallies = mine.tallies || {};
    state.mine = new Set(mine.questions || []);
    state.quizRanks = mine.quiz || {};
  },
  onStatus: function (status) {
    if (status === "live") clearConnectionFeedback();
    showProgress(status, null);
  },
  onRetry: function (retry) {
    showProgress(live ? live.status : "reconnecting", retry);
  },
  onMessage: function (message) {
    if (message.type === "video") document.dispatchEvent(new CustomEvent("live:video", { detail: message })); // player.js
    if (message.type === "my_quiz_rank") { state.quizRanks[message.rank.series] = message.rank; schedule(); }
    if (message.type === "question") noteNewQuestion(message);
  },
});

document.getElementById("live-retry").addEventListener("click", function () { live.reconnectSoon(0); });

// -- what a screen reader hears, politely: new questions and a poll that opens ----------------
var announcer = document.getElementById("announcer");
var arrivals = [];
var announceTimer = null;
function noteNewQuestion(message) {
  var q = message.question;
  if (!q || q.status !== "live" || state.mine.has(q.id)) return;
  var before = state.questions.get(q.id);
  if (before && before.status === "live") return; // an edit or a reply: not a new question
  arrivals.push(q.text);
  if (announceTimer === null) {
    announceTimer = setTimeout(function () { // a burst is one sentence, not a dozen
      announceTimer = null;
      announce(arrivals.length === 1 ? fill("New question: {text}", { text: clip(arrivals[0], 140) })
        : fill("{n} new questions", { n: arrivals.length }));
      arrivals = [];
    }, 1500);
  }
}
function announce(text) {
  announcer.textContent = "";
  setTimeout(function () { announcer.textContent = text; }, 50); // a change, even when the same words
}
function clip(text, length) {
  return text.length > length ? text.slice(0, length - 1) + "…" : text;
}

// -- asking ------------------------------------------------------------------------------
var form = document.getElementById("ask-form");
var textArea = document.getElementById("ask-text");
var nameInput = document.getElementById("ask-name");
var anonymous = document.getElementById("ask-anonymous");
var counter = document.getElementById("ask-count");
var feedback = document.getElementById("ask-feedback");
var submit = document.getElementById("ask-submit");
var savedName = nameInput.value.trim();

function showFeedback(text, kind, code) {
  feedback.textContent = text;
  feedback.className = "form-feedback" + (kind ? " form-feedback-" + kind : "");
  feedback.dataset.code = code || "";
}

/* Back online: an error that only said the connection was lost is no longer true. */
function clearConnectionFeedback() {
  if (CONNECTION_ERRORS.indexOf(feedback.dataset.code) >= 0) showFeedback("");
}
var CONNECTION_ERRORS = ["unavailable", "unknown_outcome"];

textArea.addEventListener("input", function () {
  counter.textContent = textArea.value.length + " / 500";
});
if (anonymous) {
  anonymous.addEventListener("change", function () {
    nameInput.disabled = anonymous.checked;
  });
}

function saveName(name) {
  if (name === savedName) return Promise.resolve();
  return fetch("/api/me", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ display_name: name }),
  }).then(function (response) {
    if (!response.ok) throw { code: "invalid" };
    return response.json();
  }).then(function (me) {
    savedName = me.display_name || "";
    schedule(); // a quiz that asked for a name lets the participant answer now
  });
}

// a name typed here is the participant's at once, for votes too (a quiz's leaderboard), not only
// once a question is sent: the server renames the open streams (Hub.rename)
nameInput.addEventListener("change", function () {
  if (anonymous && anonymous.checked) return;
  saveName(nameInput.value.trim()).catch(function (error) { showFeedback(errorText(error), "error"); });
});

form.addEventListener("submit", function (event) {
  event.preventDefault();
  var text = textArea.value.trim();
  var isAnonymous = anonymous ? anonymous.checked : false;
  var name = nameInput.value.trim();
  if (!text) {
    showFeedback(t("Type a question first."), "error");
    textArea.focus();
    return;
  }
  if ((state.settings.require_name || script.requireName === "true") && (isAnonymous || !name)) {
    showFeedback(t("Enter your name first: this room asks for it."), "error");
    nameInput.focus();
    return;
  }
  submit.disabled = true;
  showFeedback("");
  (isAnonymous ? Promise.resolve() : saveName(name))
    .then(function () {
      // over HTTP, not the stream: the stream's session predates a name typed on this page
      return postCommand(roomSlug, { type: "ask_question", text: text, anonymous: isAnonymous });
    })
    .then(function (result) {
      if (result.question) {
        state.questions.set(result.question.id, result.question);
        state.mine.add(result.question.id);
        schedule();
      }
      textArea.value = "";
      counter.textContent = "0 / 500";
      showFeedback(t("Your question was sent."), "ok");
    })
    .catch(function (error) {
      showFeedback(errorText(error), "error", error && error.code);
    })
    .then(function () {
      submit.disabled = false;
    });
});

// -- sorting -----------------------------------------------------------------------------
var sortButtons = document.querySelectorAll("[data-sort]");
function showOrder() {
  sortButtons.forEach(function (button) {
    button.setAttribute("aria-pressed", button.dataset.sort === state.order ? "true" : "false");
  });
}
sortButtons.forEach(function (button) {
  button.addEventListener("click", function () {
    state.order = button.dataset.sort;
    try { localStorage.setItem("live.sort", state.order); } catch (e) { /* private mode */ }
    showOrder();
    schedule();
  });
});
showOrder();

// -- upvotes -----------------------------------------------------------------------------
function toggleVote(id) {
  var question = state.questions.get(id);
  if (!question || question.status !== "live") return;
  var voted = !state.upvoted.has(id);
  var before = question.votes;
  if (voted) state.upvoted.add(id); else state.upvoted.delete(id);
  state.questions.set(id, Object.assign({}, question, { votes: Math.max(0, before + (voted ? 1 : -1)) }));
  schedule();
  live.command({ type: "upvote", question_id: id, voted: voted }).then(function (result) {
    // the server's count is the truth (merged questions carry their votes along)
    var now = state.questions.get(id);
    if (typeof result.voted === "boolean") {
      if (result.voted) state.upvoted.add(id); else state.upvoted.delete(id);
    }
    if (now && typeof result.votes === "number") state.questions.set(id, Object.assign({}, now, { votes: result.votes }));
    schedule();
  }).catch(function (error) {
    if (voted) state.upvoted.delete(id); else state.upvoted.add(id);
    var now = state.questions.get(id);
    if (now) state.questions.set(id, Object.assign({}, now, { votes: before }));
    schedule();
    notice(errorText(error), "error");
  });
}

// -- the asker's own pending question: edit or withdraw -----------------------------------
function ownCommand(command, done) {
  return postCommand(roomSlug, command).then(function () {
    done();
    schedule();
  }).catch(function (error) {
    notice(errorText(error), "error");
  });
}

function saveEdit(id, parts) {
  var text = parts.editText.value.trim();
  if (!text) { parts.editText.focus(); return; }
  parts.editSave.disabled = true;
  ownCommand({ type: "edit_my_question", question_id: id, text: text }, function () {
    var q = state.questions.get(id);
    if (q) state.questions.set(id, Object.assign({}, q, { text: text }));
    state.editing = null;
    notice(t("Your question was updated."));
    fillCard(parts, state.questions.get(id));
    parts.editButton.focus();
  }).then(function () { parts.editSave.disabled = false; });
}

function withdraw(id) {
  ownCommand({ type: "withdraw_question", question_id: id }, function () {
    state.questions.delete(id);
    state.confirming = null;
    notice(t("Your question was withdrawn."));
    textArea.focus(); // the card is gone: focus goes where they can ask again
  });
}

function ownActions(id, parts) {
  parts.editButton = el("button", { type: "button", class: "link-button", text: t("Edit"), "data-action": "edit",
    onclick: function () {
      state.editing = id;
      state.confirming = null;
      parts.editText.value = (state.questions.get(id) || {}).text || "";
      fillCard(parts, state.questions.get(id));
      parts.editText.focus();
    } });
  parts.withdrawButton = el("button", { type: "button", class: "link-button button-danger", text: t("Withdraw"), "data-action": "withdraw",
    onclick: function () {
      state.confirming = id;
      state.editing = null;
      fillCard(parts, state.questions.get(id));
      parts.confirmYes.focus();
    } });
  parts.actions = el("p", { class: "q-own-actions" }, parts.editButton, parts.withdrawButton);
  parts.confirmYes = el("button", { type: "button", class: "button button-small button-danger", text: t("Withdraw"), "data-action": "confirm-withdraw",
    onclick: function () { withdraw(id); } });
  parts.confirm = el("div", { class: "q-confirm", role: "group", hidden: true },
    el("p", { class: "small", text: t("Withdraw this question? No one will see it.") }),
    parts.confirmYes,
    el("button", { type: "button", class: "button button-small button-quiet", text: t("Keep it"),
      onclick: function () { state.confirming = null; fillCard(parts, state.questions.get(id)); parts.withdrawButton.focus(); } }));
  parts.editText = el("textarea", { rows: "3", maxlength: "500", "aria-label": t("Rewrite the question") });
  parts.editSave = el("button", { type: "submit", class: "button button-small button-primary", text: t("Save") });
  parts.editor = el("form", { class: "q-editor", hidden: true },
    parts.editText,
    el("div", { class: "vote-actions" }, parts.editSave,
      el("button", { type: "button", class: "button button-small button-quiet", text: t("Cancel"),
        onclick: function () { state.editing = null; fillCard(parts, state.questions.get(id)); parts.editButton.focus(); } })));
  parts.editor.addEventListener("submit", function (event) { event.preventDefault(); saveEdit(id, parts); });
  parts.editText.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { state.editing = null; fillCard(parts, state.questions.get(id)); parts.editButton.focus(); }
  });
}

// -- drawing -----------------------------------------------------------------------------
function makeCard(id) {
  var parts = {};
  parts.text = el("p", { class: "q-text", dir: "auto" });
  parts.reply = el("div", { class: "q-reply", hidden: true },
    el("span", { class: "q-reply-label", text: t("Reply from the moderator") }),
    parts.replyText = el("p", { dir: "auto" }));
  parts.author = el("span", { class: "q-author", dir: "auto" });
  parts.time = el("span", { class: "q-time" });
  parts.badge = el("span", { class: "badge", hidden: true });
  parts.mine = el("span", { class: "badge badge-mine", hidden: true, text: t("Your question") });
  parts.also = el("span", { class: "q-also-asked", hidden: true });
  parts.vote = el("button", {
    type: "button",
    class: "vote-button",
    "aria-pressed": "false",
    onclick: function () { toggleVote(id); },
  },
  el("span", { class: "vote-arrow", "aria-hidden": "true", text: "▲" }),
  parts.votes = el("span", { class: "vote-count", text: "0" }),
  // named with its question ("4 votes. Upvote: When will…"), the visible count first: a list of
  // a dozen identical "upvote" buttons tells a screen reader nothing
  parts.voteName = el("span", { class: "visually-hidden" }));
  parts.body = el("div", { class: "q-body" },
    el("p", { class: "q-meta" }, parts.mine, parts.badge, parts.author, parts.time, parts.also),
    parts.text,
    parts.reply);
  parts.root = el("li", { class: "question", dataset: { id: id } }, parts.vote, parts.body);
  return parts;
}

/* Edit and withdraw, drawn only on the asker's own pending questions (once, then kept). */
function ensureOwnActions(parts, id) {
  if (parts.actions) return;
  ownActions(id, parts);
  parts.body.insertBefore(parts.editor, parts.reply);
  parts.body.appendChild(parts.actions);
  parts.body.appendChild(parts.confirm);
}

function fillCard(parts, q) {
  var pending = q.status === "pending";
  var answering = state.settings.answering_question_id === q.id;
  parts.root.className = "question" + (pending ? " question-pending" : "") + (answering ? " question-answering" : "") +
    (state.mine.has(q.id) ? " question-mine" : "");
  if (parts.text.textContent !== q.text) parts.text.textContent = q.text;
  var mine = state.mine.has(q.id);
  parts.mine.hidden = !mine; // theirs before and after approval, answered or not
  if (pending && mine) ensureOwnActions(parts, q.id);
  var editing = pending && mine && state.editing === q.id;
  var confirming = pending && mine && state.confirming === q.id;
  parts.text.hidden = editing;
  if (parts.actions) {
    parts.editor.hidden = !editing;
    // Others' questions merged into it make it no longer the asker's alone: the server refuses both.
    parts.actions.hidden = !pending || !mine || editing || confirming || (q.also_asked || 0) > 0;
    parts.confirm.hidden = !confirming;
  }
  parts.author.textContent = q.author_name || t("Anonymous");
  parts.time.textContent = timeOf(q.asked_at);
  var archived = ARCHIVED.indexOf(q.status) >= 0;
  var badge = pending ? t("Awaiting moderation") : answering ? t("Now answering") : q.status === "answered" ? t("Answered") :
    q.status === "dismissed" ? t("Not published") : q.status === "merged" ? t("Merged with a similar question") :
    q.status === "moved" ? fill("Moved to {room}", { room: roomName(q.moved_to && (q.moved_to.room || q.moved_to)) }) : "";
  parts.badge.hidden = !badge;
  parts.badge.textContent = badge;
  parts.badge.className = "badge" + (pending ? " badge-pending" : answering ? " badge-live" : archived ? " badge-status badge-" + q.status : " badge-done");
  if (archived) parts.root.className += " question-archived";
  var also = q.also_asked || 0;
  parts.also.hidden = !also;
  parts.also.textContent = also ? fill("+{n} also asked", { n: also }) : "";
  var alsoBy = q.also_asked_by || [];
  if (alsoBy.length) parts.also.title = t("Also asked by:") + " " + alsoBy.join(", ");
  else parts.also.removeAttribute("title");
  parts.reply.hidden = !q.reply;
  parts.replyText.textContent = q.reply || "";
  var voted = state.upvoted.has(q.id);
  parts.vote.hidden = pending || archived;
  parts.vote.disabled = q.status !== "live";
  parts.vote.setAttribute("aria-pressed", voted ? "true" : "false");
  var name = " " + fill("votes. Upvote: {text}", { text: clip(q.text, 100) });
  if (parts.voteName.textContent !== name) parts.voteName.textContent = name;
  parts.vote.title = voted ? t("You upvoted this") : t("Upvote");
  parts.votes.textContent = String(q.votes);
}

function place(container, questions) {
  arrange(container, questions.map(function (q) {
    var parts = cards.get(q.id);
    if (!parts) {
      parts = makeCard(q.id);
      cards.set(q.id, parts);
    }
    fillCard(parts, q);
    return parts.root;
  }));
  return new Set(questions.map(function (q) { return q.id; }));
}

function render() {
  var all = Array.from(state.questions.values());
  all = all.filter(function (q) { return GONE.indexOf(q.status) < 0; });
  var own = all.filter(function (q) { return q.status === "pending" || (state.mine.has(q.id) && ARCHIVED.indexOf(q.status) >= 0); })
    .sort(function (a, b) { return b.asked_at - a.asked_at; });
  var open = sortQuestions(all.filter(function (q) { return q.status === "live"; }), state.order);
  var answered = all.filter(function (q) { return q.status === "answered"; })
    .sort(function (a, b) { return (b.answered_at || 0) - (a.answered_at || 0); });
  var shown = place(list, own.concat(open));
  place(answeredList, answered).forEach(function (id) { shown.add(id); });
  cards.forEach(function (parts, id) { if (!shown.has(id)) cards.delete(id); });

  document.getElementById("question-count").textContent = open.length ? String(open.length) : "";
  document.getElementById("no-questions").hidden = own.length + open.length > 0;
  answeredSection.hidden = answered.length === 0;
  document.getElementById("answered-count").textContent = String(answered.length);

  renderAnswering();
  renderPoll();
}

function renderAnswering() {
  var banner = document.getElementById("answering");
  var q = state.questions.get(state.settings.answering_question_id || "");
  banner.hidden = !q;
  if (!q) return;
  document.getElementById("answering-text").textContent = q.text;
  document.getElementById("answering-text").setAttribute("dir", "auto");
  document.getElementById("answering-meta").textContent = (q.author_name || t("Anonymous")) + " · ▲ " + q.votes;
}

// -- a poll that opens: announced, and one tap away from wherever the viewer is reading -------
var pollSection = document.getElementById("poll");
var pollAlert = document.getElementById("poll-alert");
var announcedPoll; // the open poll last announced (undefined: nothing drawn yet, so none is new)

function pollInView() {
  var box = pollSection.getBoundingClientRect();
  return !pollSection.hidden && box.bottom > 0 && box.top < window.innerHeight - 40;
}

function notePollOpening(poll) {
  var open = poll && poll.status === "open" ? poll.id : null;
  if (announcedPoll === undefined || open === announcedPoll) {
    announcedPoll = open;
    if (!open) pollAlert.hidden = true;
    return;
  }
  announcedPoll = open;
  pollAlert.hidden = true;
  if (!open) return;
  announce(fill("Poll open: {question}", { question: clip(poll.question, 140) }));
  if (pollInView()) return;
  document.getElementById("poll-alert-question").textContent = poll.question;
  pollAlert.hidden = false;
}

function goToPoll() {
  pollAlert.hidden = true;
  pollSection.scrollIntoView({ block: "start" });
  var first = pollSection.querySelector("input, textarea, button");
  (first || pollSection).focus({ preventScroll: true });
}
document.getElementById("poll-alert-go").addEventListener("click", goToPoll);
document.getElementById("poll-alert-close").addEventListener("click", function () { pollAlert.hidden = true; });
pollAlert.addEventListener("keydown", function (event) { if (event.key === "Escape") pollAlert.hidden = true; });
window.addEventListener("scroll", function () {
  if (!pollAlert.hidden && pollInView()) pollAlert.hidden = true; // they found it themselves
}, { passive: true });

// -- the active poll -----------------------------------------------------------------------
var pollDrawn = null; // what the voting form was drawn for, so typing is not interrupted

function renderPoll() {
  var section = pollSection;
  var body = document.getElementById("poll-body");
  var poll = state.polls.get(state.settings.active_poll_id || "");
  section.hidden = !poll;
  notePollOpening(poll);
  if (!poll) {
    pollDrawn = null;
    body.replaceChildren();
    return;
  }
  section.dataset.kind = poll.kind;
  section.dataset.status = poll.status;
  var ballot = state.ballots[poll.id];
  // A quiz whose answer is out takes no more answers (the server refuses them): no form to fill in.
  var answerOut = poll.kind === "quiz" && !!poll.revealed && poll.status === "open";
  var voting = poll.status === "open" && !answerOut && (!ballot || state.changingVote);
  var askName = voting && poll.kind === "quiz" && !savedName && !state.nameAsked;
  var key = [poll.id, poll.status, voting, askName, answerOut, JSON.stringify(ballot || null)].join("|");
  var results = document.getElementById("poll-results");
  if (pollDrawn === key && results) {
    results.replaceWith(pollResults(poll, ballot, results, voting));
    paintShares(body, poll);
    answerStatus(poll, ballot);
    return;
  }
  pollDrawn = key;
  var children = [el("h2", { class: "poll-question", dir: "auto", text: poll.question })];
  if (askName) children.push(quizNamePrompt()); // above the answers: asking must not cost speed points
  if (voting) children.push(voteForm(poll, ballot));
  else if (answerOut) {
    children.push(el("p", { class: "muted poll-closed", text: t("the answer is out: this quiz takes no more answers") }));
    if (ballot) children.push(myBallot(poll, ballot));
  } else if (poll.status === "open") {
    children.push(myBallot(poll, ballot));
    children.push(el("button", {
      type: "button",
      class: "button button-quiet",
      text: poll.kind === "open_text" ? t("Change my answer") : t("Change my vote"),
      onclick: function () { state.changingVote = true; schedule(); },
    }));
  } else {
    children.push(el("p", { class: "muted poll-closed", text: t("This poll is closed.") }));
    if (ballot) children.push(myBallot(poll, ballot));
  }
  children.push(pollResults(poll, ballot, null, voting));
  body.replaceChildren.apply(body, children);
  paintShares(body, poll);
  answerStatus(poll, ballot);
}

/* Open text: whether a moderator approved this participant's answer (it is then in the tally). */
function answerStatus(poll, ballot) {
  var status = document.getElementById("my-answer-status");
  if (!status || !ballot || poll.kind !== "open_text") return;
  var tally = tallyFor(poll);
  var approved = tally && Object.prototype.hasOwnProperty.call(tally, ballot[0]);
  status.textContent = approved ? t("Approved: everyone can see it.") : t("Your answer awaits moderation.");
  status.className = "form-feedback " + (approved ? "form-feedback-ok" : "form-feedback-pending");
}

function myBallot(poll, ballot) {
  if (poll.kind === "open_text") {
    return el("div", { class: "my-answer" },
      el("p", { class: "muted small", text: t("Your answer:") }),
      el("p", { class: "my-answer-text", dir: "auto", text: (ballot || [])[0] || "" }),
      el("p", { id: "my-answer-status", class: "form-feedback form-feedback-ok" }));
  }
  var shown = poll.kind === "rating" ? ballot.map(function (b) { return stars(Number(b)); })
    : poll.kind === "ranking" ? ballot.map(function (b, i) { return (i + 1) + ". " + b; }) : ballot;
  return el("p", { class: "form-feedback form-feedback-ok my-vote" },
    el("span", { text: t("Your vote was counted.") + " " }),
    el("span", { class: "my-vote-choice", dir: "auto", text: shown.join(", ") }));
}

/* The tally as the server sent it: in the poll when every viewer may see it, or the one this
 * participant's vote earned (snapshot, vote reply). The server decides; the page only shows. */
function tallyFor(poll) {
  return poll.tally || state.tallies[poll.id] || null;
}

/* Choices shown live while the viewer votes: each choice carries its own count and bar, so the
 * options are drawn once (not again as empty bars under the buttons). */
function sharesInChoices(poll, voting) {
  return voting && !!tallyFor(poll) && (poll.kind === "single_choice" || poll.kind === "multiple_choice");
}

function paintShares(body, poll) {
  var tally = tallyFor(poll) || {};
  var rows = body.querySelectorAll(".choice-share");
  if (!rows.length) return;
  var counts = (poll.options || []).map(function (o) { return tally[o] || 0; });
  var total = counts.reduce(function (a, b) { return a + b; }, 0);
  var most = Math.max.apply(null, counts.concat([0]));
  // multiple choice: a share of the voters, not of all ticks (as tallyBars counts it)
  var base = poll.kind === "multiple_choice" && poll.ballots > 0 ? Math.max(poll.ballots, most) : total;
  rows.forEach(function (row) {
    var count = tally[row.dataset.option] || 0;
    var share = base ? Math.round((count / base) * 100) : 0;
    row.dataset.count = String(count);
    row.querySelector(".tally-value").textContent = count + (total ? " · " + share + "%" : "");
    row.querySelector(".tally-bar").style.width = (count && base ? Math.max(2, share) : 0) + "%";
  });
}

function pollResults(poll, ballot, previous, voting) {
  var box = el("div", { id: "poll-results", class: "poll-results" });
  if (sharesInChoices(poll, voting)) { // the counts are in the choices: only how many voted
    box.appendChild(el("p", { class: "muted small poll-ballots", text: ballots(poll.ballots) }));
    return box;
  }
  var tally = tallyFor(poll);
  if (poll.kind === "quiz" && poll.correct) {
    var right = ballot && poll.correct.indexOf(ballot[0]) >= 0;
    box.appendChild(el("p", { class: "quiz-answer" },
      el("span", { class: "muted", text: t("Correct answer:") + " " }),
      el("strong", { class: "quiz-correct", dir: "auto", text: poll.correct.join(", ") })));
    if (ballot) {
      box.appendChild(el("p", { class: "quiz-verdict " + (right ? "quiz-right" : "quiz-wrong"), text: right ? t("You got it right!") : t("Not this time.") }));
    }
  }
  var old = previous && previous.querySelector(".tally");
  // a ranking being ordered: its options are in the form above, the result shows once voted
  var ordering = poll.kind === "ranking" && poll.status === "open" && (!ballot || state.changingVote);
  if (ordering) {
    // nothing drawn twice
  } else if (tally && poll.kind === "open_text") {
    if (Object.keys(tally).length) box.appendChild(answerWall(tally));
  } else if (tally) {
    box.appendChild(sharedPollResults(poll, tally, { into: poll.kind === "rating" ? previous && previous.querySelector(".rating") : old, mine: ballot }));
  } else if (poll.kind === "quiz") {
    box.appendChild(el("p", { class: "muted small", text: t("The answer is revealed at the end.") }));
  } else if (poll.tally_hidden_until === "vote") {
    box.appendChild(el("p", { class: "muted small", text: t("Results appear once you have voted.") }));
  } else {
    box.appendChild(el("p", { class: "muted small", text: t("Results are shown when the moderator reveals them.") }));
  }
  if (poll.kind === "quiz" && poll.correct) {
    box.appendChild(leaderboard(poll.leaders));
    quizSeries(poll).forEach(function (node) { if (node) box.appendChild(node); });
  }
  box.appendChild(el("p", { class: "muted small poll-ballots", text: ballots(poll.ballots) }));
  return box;
}

/* A revealed quiz: the series' leaderboard and this participant's own place (quiz.js). */
function quizSeries(poll) {
  return [Quiz.ownRank(state.quizRanks[poll.series || ""]), Quiz.standingsBoard(poll.standings)];
}

/* A quiz asks a participant without a name for one first, for its leaderboard. */
function quizNamePrompt() {
  return Quiz.namePrompt(function (name) {
    return saveName(name).then(function () { nameInput.value = savedName; });
  }, function () { state.nameAsked = true; schedule(); });
}

function voteForm(poll, ballot) {
  var chosen = new Set(ballot || []);
  var formNode = el("form", { class: "vote-form vote-form-" + poll.kind });
  var inputs = [];
  var collect;
  if (poll.kind === "word_cloud") {
    formNode.appendChild(el("p", { class: "muted small", text: t("Up to three words or short phrases.") }));
    for (var i = 0; i < 3; i++) {
      var input = el("input", { type: "text", maxlength: "40", placeholder: t("A word"), "aria-label": fill("Word {n}", { n: i + 1 }), value: (ballot || [])[i] || "" });
      inputs.push(input);
      formNode.appendChild(input);
    }
    collect = function () { return inputs.map(function (i) { return i.value.trim(); }).filter(Boolean); };
  } else if (poll.kind === "open_text") {
    var area = el("textarea", { rows: "3", maxlength: "280", "aria-label": t("Your answer"), placeholder: t("Type your answer…") });
    area.value = (ballot || [])[0] || "";
    var count = el("span", { class: "char-count", text: area.value.length + " / 280" });
    area.addEventListener("input", function () { count.textContent = area.value.length + " / 280"; });
    formNode.appendChild(area);
    formNode.appendChild(el("p", { class: "muted small" }, t("Answers appear once a moderator approves them."), " ", count));
    collect = function () { return area.value.trim() ? [area.value.trim()] : []; };
  } else if (poll.kind === "rating") {
    var group = el("div", { class: "stars-input", role: "radiogroup", "aria-label": t("Your rating") });
    var paint = function () {
      var value = 0;
      inputs.forEach(function (input) { if (input.checked) value = Number(input.value); });
      Array.prototype.forEach.call(group.children, function (label, index) { label.classList.toggle("star-on", index < value); });
    };
    poll.options.forEach(function (option) {
      var input = el("input", { type: "radio", name: "poll-" + poll.id, value: option, "aria-label": fill("{n} stars", { n: option }) });
      input.checked = chosen.has(option);
      input.addEventListener("change", paint);
      inputs.push(input);
      group.appendChild(el("label", { class: "star", title: option }, input, el("span", { "aria-hidden": "true", text: "★" })));
    });
    formNode.appendChild(group);
    paint();
    collect = function () { return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }); };
  } else if (poll.kind === "ranking") {
    var ranking = Ranking.input(poll, ballot);
    formNode.appendChild(ranking.node);
    collect = ranking.collect;
  } else {
    var multiple = poll.kind === "multiple_choice";
    var choices = el("div", { class: "choices" });
    if (multiple) formNode.appendChild(el("p", { class: "muted small", text: t("Pick one or more.") }));
    var shares = sharesInChoices(poll, true);
    poll.options.forEach(function (option) {
      var input = el("input", { type: multiple ? "checkbox" : "radio", name: "poll-" + poll.id, value: option });
      input.checked = chosen.has(option);
      inputs.push(input);
      var share = shares ? el("span", { class: "choice-share tally-row", dataset: { option: option } },
        el("span", { class: "tally-value" }),
        el("span", { class: "tally-track", "aria-hidden": "true" }, el("span", { class: "tally-bar" }))) : null;
      choices.appendChild(el("label", { class: "choice" + (shares ? " choice-live" : "") }, input,
        el("span", { class: "choice-text", dir: "auto", text: option }), share));
    });
    formNode.appendChild(choices);
    collect = function () { return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }); };
  }
  var button = el("button", { type: "submit", class: "button button-primary", text: poll.kind === "open_text" ? t("Send answer") : t("Vote") });
  var actions = el("div", { class: "vote-actions" }, button);
  if (ballot) {
    actions.appendChild(el("button", {
      type: "button",
      class: "button button-quiet",
      text: t("Cancel"),
      onclick: function () { state.changingVote = false; schedule(); },
    }));
  }
  formNode.appendChild(actions);
  // why a vote was not taken, under the form (not a toast far from it)
  var problem = formNode.appendChild(el("p", { class: "form-feedback form-feedback-error vote-problem", role: "alert" }));
  formNode.addEventListener("submit", function (event) {
    event.preventDefault();
    var picked = collect();
    if (!picked.length) {
      problem.textContent = poll.kind === "open_text" ? t("Type an answer first.") : t("Choose an answer first.");
      return;
    }
    problem.textContent = "";
    button.disabled = true;
    live.command({ type: "vote_poll", poll_id: poll.id, choices: picked })
      .then(function (result) {
        state.ballots[poll.id] = picked;
        if (result && result.tally) state.tallies[poll.id] = result.tally;
        state.changingVote = false;
        schedule();
      })
      .catch(function (error) {
        button.disabled = false;
        problem.textContent = errorText(error);
      });
  });
  return formNode;
}
