/* console_polls.js: the console's polls: the form that creates one, and the list of the room's
 * polls with their results, answer queues (open text), held words (word clouds), leaderboards
 * (quizzes) and actions. moderator.js owns the room's state and redraws; this draws the polls. */
import { confirmDialog } from "./lib/dialogs.js";
import { arrange, button, el, notice } from "./lib/dom.js";
import { focusIn, restoreFocus } from "./lib/focus.js";
import { ballots, errorText, fill, t, timeOf } from "./lib/i18n.js";
import { leaderboard, pollResults } from "./lib/poll_results.js";
import * as Quiz from "./lib/quiz.js";

/* state: the console's room state (polls, settings, alerts); live: its LiveRoom; run: a command
 * whose error is a toast; alertBadge(alert): the vote alert's badge. Returns {render}. */
export function consolePolls(state, live, run, alertBadge) {
  var pollList = document.getElementById("poll-list");
  var pollForm = document.getElementById("poll-form");
  var kindSelect = document.getElementById("poll-kind");
  var optionsArea = document.getElementById("poll-options");
  var correctSelect = document.getElementById("poll-correct");
  var visibilitySelect = document.getElementById("poll-visibility");
  var CHOICE_KINDS = ["single_choice", "multiple_choice", "quiz", "ranking"];

  function typedOptions() {
    return optionsArea.value.split("\n").map(function (o) { return o.trim(); }).filter(Boolean);
  }

  function fillCorrect() {
    var before = correctSelect.value;
    var options = [el("option", { value: "", text: t("Pick the correct option") })];
    typedOptions().forEach(function (o) { options.push(el("option", { value: o, text: o })); });
    correctSelect.replaceChildren.apply(correctSelect, options);
    correctSelect.value = typedOptions().indexOf(before) >= 0 ? before : "";
  }

  function showOptionsField() {
    var kind = kindSelect.value;
    document.getElementById("poll-options-field").hidden = CHOICE_KINDS.indexOf(kind) < 0;
    document.getElementById("poll-correct-field").hidden = kind !== "quiz";
    document.getElementById("poll-series-field").hidden = kind !== "quiz"; // quiz.py: its series
    fillCorrect();
  }
  kindSelect.addEventListener("change", function () {
    if (kindSelect.value === "quiz") visibilitySelect.value = "on_reveal"; // a quiz keeps its answer for the end
    showOptionsField();
  });
  optionsArea.addEventListener("input", fillCorrect);
  showOptionsField();

  pollForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var kind = kindSelect.value;
    var command = {
      type: "create_poll",
      kind: kind,
      question: document.getElementById("poll-question").value,
      options: CHOICE_KINDS.indexOf(kind) >= 0 ? typedOptions() : [],
      visibility: visibilitySelect.value,
    };
    if (kind === "quiz") {
      if (!correctSelect.value) {
        pollProblem(t("Pick the correct option"));
        correctSelect.focus();
        return;
      }
      command.correct = [correctSelect.value];
      command.series = document.getElementById("poll-series").value;
    }
    pollProblem("");
    // not run(): its error is a toast, and this one belongs under the form it is about
    live.command(command).then(function () {
      pollForm.reset();
      showOptionsField();
      notice(t("Poll created. Open it to show it to viewers."));
    }).catch(function (error) { pollProblem(errorText(error)); });
  });

  function pollProblem(text) {
    var feedback = document.getElementById("poll-form-feedback");
    feedback.textContent = text;
    feedback.className = "form-feedback" + (text ? " form-feedback-error" : "");
  }

  function changePoll(poll, action) {
    var asked = action === "delete"
      ? confirmDialog({ title: t("Delete this poll and its votes?"), text: poll.question, confirm: t("Delete"), danger: true })
      : Promise.resolve(true);
    asked.then(function (yes) {
      if (yes) run({ type: "change_poll", poll_id: poll.id, action: action }).catch(function () {});
    });
  }

  function moderateAnswer(poll, answer, action) {
    run({ type: "moderate_answer", poll_id: poll.id, participant_id: answer.participant_id, action: action }).catch(function () {});
  }

  function moderateWord(poll, word, action) {
    run({ type: "moderate_word", poll_id: poll.id, word: word, action: action }).catch(function () {});
  }

  var KIND_LABELS = {
    single_choice: "Single choice",
    multiple_choice: "Multiple choice",
    rating: "Rating 1–5",
    word_cloud: "Word cloud",
    open_text: "Open text",
    quiz: "Quiz",
    ranking: "Ranking",
  };
  var VISIBILITY_LABELS = { live: "Shown live", after_vote: "Shown after voting", on_reveal: "Hidden until revealed" };
  var ANSWER_LABELS = { pending: "Awaiting moderation", approved: "Approved", dismissed: "Dismissed" };

  function answerQueue(poll) {
    var answers = (poll.answers || []).slice().sort(function (a, b) {
      var order = { pending: 0, approved: 1, dismissed: 2 };
      return (order[a.status] - order[b.status]) || ((a.at || 0) - (b.at || 0));
    });
    var waiting = answers.filter(function (a) { return a.status === "pending"; }).length;
    var list = el("ol", { class: "answer-queue" });
    answers.forEach(function (answer) {
      var actions = el("span", { class: "actions" });
      if (answer.status !== "approved") {
        actions.appendChild(button(t("Approve"), function () { moderateAnswer(poll, answer, "approve"); }, { class: "button button-small button-primary", "data-action": "approve-answer" }));
      }
      if (answer.status !== "dismissed") {
        actions.appendChild(button(t("Dismiss"), function () { moderateAnswer(poll, answer, "dismiss"); }, { "data-action": "dismiss-answer" }));
      }
      list.appendChild(el("li", { class: "answer-item answer-" + answer.status, dataset: { status: answer.status } },
        el("p", { class: "q-meta" },
          el("span", { class: "badge badge-answer-" + answer.status, text: t(ANSWER_LABELS[answer.status] || answer.status) }),
          (answer.flags || []).indexOf("word_filter") >= 0 ? el("span", { class: "badge badge-filter", text: "⚠ " + t("Held by word filter") }) : null,
          el("span", { class: "q-author", dir: "auto", text: answer.name || t("Anonymous") }),
          el("span", { class: "q-time", text: timeOf(answer.at) })),
        el("p", { class: "answer-item-text", dir: "auto", text: answer.text }),
        actions));
    });
    return el("div", { class: "answer-queue-box" },
      el("p", { class: "small muted", text: fill("{n} answers await moderation", { n: waiting }) }),
      answers.length ? list : el("p", { class: "small muted", text: t("No answers yet.") }));
  }

  /* A word cloud's words the word filter held (or the moderator rejected): out of the public
     cloud until allowed. The server sends them with the poll and its counters (held_words). */
  function heldWords(poll) {
    var held = poll.held_words || [];
    if (!held.length) return null;
    var waiting = held.filter(function (h) { return h.status === "held"; }).length;
    var list = el("ol", { class: "answer-queue held-words" });
    held.forEach(function (entry) {
      var actions = el("span", { class: "actions" });
      actions.appendChild(button(t("Allow"), function () { moderateWord(poll, entry.word, "allow"); }, { class: "button button-small button-primary", "data-action": "allow-word" }));
      if (entry.status !== "rejected") {
        actions.appendChild(button(t("Reject"), function () { moderateWord(poll, entry.word, "reject"); }, { "data-action": "reject-word" }));
      }
      var pending = entry.status === "held";
      list.appendChild(el("li", { class: "answer-item held-word " + (pending ? "answer-pending" : "answer-dismissed"), dataset: { word: entry.word, status: entry.status } },
        el("p", { class: "q-meta" },
          el("span", { class: "badge " + (pending ? "badge-filter" : "badge-answer-dismissed"), text: pending ? "⚠ " + t("Held by word filter") : t("Rejected") }),
          el("span", { class: "poll-ballots", text: ballots(entry.count) })),
        el("p", { class: "answer-item-text", dir: "auto", text: entry.word }),
        actions));
    });
    return el("div", { class: "answer-queue-box" },
      el("p", { class: "small muted", text: fill("{n} words held out of the cloud until you allow them", { n: waiting }) }),
      list);
  }

  var pollCache = new Map(); // poll id -> {key, node}

  function renderPolls() {
    var polls = Array.from(state.polls.values()).sort(function (a, b) { return b.created_at - a.created_at; });
    var saved = focusIn(pollList, ".poll-item");
    pollCache.forEach(function (value, id) { if (!state.polls.has(id)) pollCache.delete(id); });
    var items = polls.map(function (poll) {
      var key = JSON.stringify([poll, state.settings.active_poll_id === poll.id, state.alerts.get("poll:" + poll.id) || null]);
      var cached = pollCache.get(poll.id);
      if (cached && cached.key === key) return cached.node;
      var node = pollItem(poll, cached && cached.node);
      pollCache.set(poll.id, { key: key, node: node });
      return node;
    });
    arrange(pollList, items, saved && items.indexOf(saved.item) >= 0 ? saved.item : null);
    restoreFocus(pollList, ".poll-item", saved);
    document.getElementById("polls-empty").hidden = polls.length > 0;
  }

  function pollItem(poll, previous) {
    var active = state.settings.active_poll_id === poll.id;
    var statusLabel = poll.status === "draft" ? t("Draft") : poll.status === "open" ? t("Open") : t("Closed");
    var actions = el("div", { class: "actions" });
    if (poll.status === "draft") actions.appendChild(button(t("Open"), function () { changePoll(poll, "open"); }, { class: "button button-small button-primary", "data-action": "open" }));
    else if (poll.status === "closed") actions.appendChild(button(t("Reopen"), function () { changePoll(poll, "open"); }, { "data-action": "open" }));
    else actions.appendChild(button(t("Close"), function () { changePoll(poll, "close"); }, { class: "button button-small button-primary", "data-action": "close" }));
    if (!poll.revealed && poll.status !== "draft" && (poll.visibility !== "live" || poll.kind === "quiz")) {
      actions.appendChild(button(t("Reveal results"), function () { changePoll(poll, "reveal"); }, { "data-action": "reveal" }));
    }
    actions.appendChild(button(t("Delete"), function () { changePoll(poll, "delete"); }, { class: "button button-small button-danger", "data-action": "delete" }));
    var tally = poll.tally || {};
    // bars move from where they were rather than growing again from zero
    var into = previous ? previous.querySelector(poll.kind === "rating" ? ".rating" : ".tally") : null;
    var results = poll.kind === "open_text" ? answerQueue(poll) : pollResults(poll, tally, { into: into });
    var extra = null;
    if (poll.kind === "quiz") extra = el("div", { class: "quiz-boards" }, leaderboard(poll.leaders), Quiz.standingsBoard(poll.standings));
    if (poll.kind === "word_cloud") extra = heldWords(poll);
    return el("li", { class: "card poll-item" + (active ? " poll-active" : ""), dataset: { id: poll.id, kind: poll.kind } },
      el("p", { class: "q-meta" },
        el("span", { class: "badge badge-" + poll.status, text: statusLabel }),
        active ? el("span", { class: "badge badge-live", text: t("Shown to viewers") }) : null,
        poll.revealed ? el("span", { class: "badge badge-done", text: t("Revealed") }) : null,
        alertBadge(state.alerts.get("poll:" + poll.id)),
        el("span", { class: "chip", text: t(KIND_LABELS[poll.kind] || poll.kind) }),
        el("span", { class: "small muted", text: t(VISIBILITY_LABELS[poll.visibility] || poll.visibility) }),
        el("span", { class: "poll-ballots", text: ballots(poll.ballots) })),
      el("p", { class: "poll-item-question", dir: "auto", text: poll.question }),
      results,
      extra,
      actions);
  }

  return { render: renderPolls };
}
