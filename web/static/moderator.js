/* moderator.js: the moderation console: questions by status, highlight, edit, reply, merge, move,
 * the screen's scene and the presenter's note; the polls are console_polls.js's. */
import "./lib/tabs.js"; // the console's tabs work with arrow keys
import { consolePolls } from "./console_polls.js";
import { confirmDialog } from "./lib/dialogs.js";
import { arrange, button, el, notice, readJSON, scheduler, scriptData } from "./lib/dom.js";
import { focusIn, restoreFocus } from "./lib/focus.js";
import { errorText, fill, t, timeOf } from "./lib/i18n.js";
import { followRoom } from "./lib/room.js";

var roomSlug = scriptData(import.meta.url).room;

var state = {
  settings: {},
  questions: new Map(),
  polls: new Map(),
  tab: "pending",
  selected: null, // question id
  editing: new Map(), // question id -> {kind: "edit"|"reply"|"labels", node}
  checked: new Set(), // question ids ticked for a bulk action, in the current tab
  alerts: new Map(), // "question:ID" or "poll:ID" -> the latest vote_alert (kept across reconnects)
  filter: { text: "", label: "", starred: false, held: false, duplicates: false },
  compact: false, // the compact density: remembered in this browser (DENSITY_KEY)
  expanded: new Set(), // compact cards whose secondary actions ("More") are shown
};
var DENSITY_KEY = "live.console.density";

var ARCHIVED = ["dismissed", "merged", "moved"];
// Withdrawn by its asker: in no tab, and never offered as the question to merge into (refused).
var NOT_MERGEABLE = ARCHIVED.concat(["withdrawn"]);
var otherRooms = readJSON("other-rooms");
if (!Array.isArray(otherRooms)) otherRooms = [];
function roomName(slug) {
  var found = otherRooms.filter(function (r) { return r.slug === slug; })[0];
  return found ? found.name : slug;
}
// Votes that came mostly from one address (the server's vote_alert): a warning, never an action.
function alertBadge(alert) {
  if (!alert) return null;
  var minutes = Math.max(1, Math.ceil(alert.seconds / 60));
  return el("span", {
    class: "badge badge-filter badge-vote-alert",
    title: t("These votes may be stuffed by one person. Nothing was removed: you decide, e.g. close the poll or dismiss the question."),
    text: "⚠ " + fill("{n} of the last {total} votes came from one address in {minutes} min", { n: alert.from_one_address, total: alert.recent_votes, minutes: minutes }),
  });
}
// An asker took back a pending question: its card leaves Pending, perhaps under a moderator's
// eyes or mid-edit, so the console says what happened rather than letting it vanish.
function withdrawnNotice(question) {
  var text = "“" + clip(question.text, 80) + "”";
  notice(question.author_name
    ? fill("{name} withdrew their question {text}", { name: question.author_name, text: text })
    : fill("A question was withdrawn by its asker: {text}", { text: text }));
}
function clip(text, length) {
  return text.length > length ? text.slice(0, length - 1) + "…" : text;
}

var list = document.getElementById("mod-list");
var schedule = scheduler(render);

var live = followRoom(roomSlug, "moderator", state, {
  changed: schedule,
  onMessage: function (message) {
    if (message.type === "question" && message.action === "withdrawn") return withdrawnNotice(message.question);
    if (message.type !== "vote_alert") return;
    var target = message.question_id ? "question:" + message.question_id : "poll:" + message.poll_id;
    state.alerts.set(target, message);
    schedule();
  },
});

function run(command) {
  return live.command(command).catch(function (error) {
    notice(errorText(error), "error");
    throw error;
  });
}

var polls = consolePolls(state, live, run, alertBadge);

function act(id, action) {
  return run({ type: "moderate_question", question_id: id, action: action }).catch(function () {});
}

function highlight(id) {
  return run({ type: "highlight_question", question_id: id }).catch(function () {});
}

// -- tabs and the moderation mode ----------------------------------------------------------
var tabs = document.querySelectorAll("[data-tab]");
tabs.forEach(function (tab) {
  tab.addEventListener("click", function () {
    state.tab = tab.dataset.tab;
    state.selected = null;
    state.checked.clear();
    render();
  });
});

document.querySelectorAll("[data-mode]").forEach(function (button) {
  button.addEventListener("click", function () {
    var mode = button.dataset.mode;
    if (state.settings.moderation === mode) return;
    run({ type: "set_moderation", mode: mode })
      .then(function () { notice(t(mode === "pre" ? "New questions now wait for approval." : "New questions are now published at once.")); })
      .catch(function () {});
  });
});

document.getElementById("clear-highlight").addEventListener("click", function () { highlight(null); });
document.getElementById("strip-mark-answered").addEventListener("click", function () {
  var id = state.settings.answering_question_id;
  if (id) act(id, "mark_answered");
});
/* The strip stays in view under the page's sticky header while the list scrolls. */
var answeringStrip = document.getElementById("mod-answering");
function placeStrip() {
  var header = document.querySelector(".site-header");
  answeringStrip.style.top = (header ? header.offsetHeight : 0) + "px";
}
placeStrip();
window.addEventListener("resize", placeStrip);

// -- questions -----------------------------------------------------------------------------
function tabOf(q) {
  return ARCHIVED.indexOf(q.status) >= 0 ? "archived" : q.status;
}

function byTab(status) {
  var all = Array.from(state.questions.values()).filter(function (q) { return tabOf(q) === status; });
  if (status === "pending") return all.sort(function (a, b) { return a.asked_at - b.asked_at; });
  if (status === "live") {
    return all.sort(function (a, b) {
      return (Number(b.starred) - Number(a.starred)) || (b.votes - a.votes) || (a.asked_at - b.asked_at);
    });
  }
  if (status === "answered") return all.sort(function (a, b) { return (b.answered_at || 0) - (a.answered_at || 0); });
  return all.sort(function (a, b) { return b.asked_at - a.asked_at; });
}

// -- search and filters: within the tab (the tabs are the status filter) ----------------------
var searchBox = document.getElementById("mod-search");
var labelSelect = document.getElementById("mod-filter-label");
var filterBoxes = document.querySelectorAll("[data-filter]");
var clearFilters = document.getElementById("mod-filter-clear");

function filtering() {
  var f = state.filter;
  return Boolean(f.text || f.label || f.starred || f.held || f.duplicates);
}

/* Questions flagged as a possible duplicate, and the ones they duplicate: both sides, so a
 * moderator sees the pair together and merges it. */
function duplicateIds() {
  var ids = new Set();
  state.questions.forEach(function (q) {
    var original = ARCHIVED.indexOf(q.status) < 0 && q.duplicate_of ? mergeTarget(q.duplicate_of) : null;
    if (original && original.id !== q.id) { ids.add(q.id); ids.add(original.id); }
  });
  return ids;
}

function matcher() {
  var f = state.filter;
  var words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  var duplicates = f.duplicates ? duplicateIds() : null;
  return function (q) {
    if (f.starred && !q.starred) return false;
    if (f.held && (q.flags || []).indexOf("word_filter") < 0) return false;
    if (f.label && (q.labels || []).indexOf(f.label) < 0) return false;
    if (duplicates && !duplicates.has(q.id)) return false;
    if (!words.length) return true;
    var haystack = [q.text, q.author_name || "", q.reply || "", (q.labels || []).join(" ")].join("\n").toLowerCase();
    return words.every(function (word) { return haystack.indexOf(word) >= 0; });
  };
}

/* The current tab's questions that pass the filters, in the tab's order. */
function shownInTab() {
  var all = byTab(state.tab);
  return filtering() ? all.filter(matcher()) : all;
}

searchBox.addEventListener("input", function () { state.filter.text = searchBox.value.trim(); schedule(); });
labelSelect.addEventListener("change", function () { state.filter.label = labelSelect.value; render(); });
filterBoxes.forEach(function (box) {
  box.addEventListener("change", function () { state.filter[box.dataset.filter] = box.checked; render(); });
});
clearFilters.addEventListener("click", function () {
  state.filter = { text: "", label: "", starred: false, held: false, duplicates: false };
  searchBox.value = "";
  labelSelect.value = "";
  filterBoxes.forEach(function (box) { box.checked = false; });
  render();
  searchBox.focus();
});

function renderFilters(shownCount, tabCount) {
  var labels = new Set();
  state.questions.forEach(function (q) { (q.labels || []).forEach(function (label) { labels.add(label); }); });
  if (state.filter.label) labels.add(state.filter.label); // kept while chosen, even if no question has it now
  var sorted = Array.from(labels).sort();
  var key = JSON.stringify(sorted);
  if (labelSelect.dataset.key !== key) {
    labelSelect.dataset.key = key;
    var options = [labelSelect.options[0]];
    sorted.forEach(function (label) { options.push(el("option", { value: label, text: label })); });
    labelSelect.replaceChildren.apply(labelSelect, options);
    labelSelect.value = state.filter.label;
  }
  labelSelect.hidden = sorted.length === 0;
  var on = filtering();
  clearFilters.hidden = !on;
  var count = document.getElementById("mod-filter-count");
  var text = on ? fill("Showing {shown} of {n}", { shown: shownCount, n: tabCount }) : "";
  if (count.textContent !== text) count.textContent = text;
}

// -- density -------------------------------------------------------------------------------
var densityToggle = document.getElementById("density-toggle");
function readDensity() {
  try { return window.localStorage.getItem(DENSITY_KEY) === "compact"; } catch (e) { return false; }
}
function showDensity() {
  document.body.classList.toggle("console-compact", state.compact);
  densityToggle.setAttribute("aria-pressed", state.compact ? "true" : "false");
}
densityToggle.addEventListener("click", function () {
  state.compact = !state.compact;
  try { window.localStorage.setItem(DENSITY_KEY, state.compact ? "compact" : "comfortable"); } catch (e) { /* private mode: this page only */ }
  showDensity();
  render();
});
state.compact = readDensity();
showDensity();

function editor(q, kind) {
  var existing = state.editing.get(q.id);
  if (existing && existing.kind === kind) return existing.node;
  var area;
  if (kind === "labels") {
    area = el("input", {
      type: "text",
      maxlength: "200",
      placeholder: t("Labels, separated by commas"),
      "aria-label": t("Labels"),
    });
    area.value = (q.labels || []).join(", ");
  } else {
    area = el("textarea", {
      rows: kind === "edit" ? 3 : 2,
      maxlength: kind === "edit" ? "500" : "1000",
      placeholder: kind === "reply" ? t("A short answer shown under the question") : null,
      "aria-label": kind === "edit" ? t("Edit") : t("Reply"),
    });
    area.value = kind === "edit" ? q.text : q.reply || "";
  }
  var node = el("form", { class: "inline-editor" + (kind === "labels" ? " inline-editor-labels" : "") },
    area,
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "button button-small button-primary", text: t("Save") }),
      button(t("Cancel"), function () { close(); }),
      el("span", { class: "muted small editor-keys", text: t("Ctrl+Enter saves, Esc cancels") })));
  function close() {
    state.editing.delete(q.id);
    render();
  }
  node.addEventListener("submit", function (event) {
    event.preventDefault();
    var command;
    if (kind === "edit") command = { type: "edit_question", question_id: q.id, text: area.value };
    else if (kind === "reply") command = { type: "reply_to_question", question_id: q.id, reply: area.value.trim() ? area.value : null };
    else {
      var labels = area.value.split(/[,，、]/).map(function (l) { return l.trim(); }).filter(Boolean);
      command = { type: "label_question", question_id: q.id, labels: labels };
    }
    run(command).then(close).catch(function () {});
  });
  node.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault(); // Ctrl+Enter (Cmd+Enter) saves, as in chat and mail
      node.requestSubmit();
    }
  });
  state.editing.set(q.id, { kind: kind, node: node });
  setTimeout(function () { area.focus(); }, 0);
  return node;
}

// -- merging, moving, bulk actions ---------------------------------------------------------
/* The question a merged one now lives on (merges can chain), or null if it is gone. */
function mergeTarget(id) {
  var seen = {};
  var q = state.questions.get(id);
  while (q && q.status === "merged" && q.merged_into && !seen[q.id]) {
    seen[q.id] = true;
    q = state.questions.get(q.merged_into);
  }
  return q && NOT_MERGEABLE.indexOf(q.status) < 0 ? q : null;
}

function merge(keptId, duplicateIds) {
  return run({ type: "merge_questions", question_id: keptId, duplicate_ids: duplicateIds })
    .then(function () {
      duplicateIds.forEach(function (id) { state.checked.delete(id); });
      notice(t("Merged: the votes and the askers are kept on one question."));
      render();
    })
    .catch(function () {});
}

/* One question merged into the one it duplicates. A merge moves votes and askers for good
 * (no command takes it back), so it is confirmed first, in the page, like the bulk merge. */
function confirmMerge(original, duplicate) {
  confirmDialog({ title: fill("Merge this question into “{text}”?", { text: clip(original.text, 80) }), text: t("Its votes and its asker move to that question, and it goes to Archived. This cannot be undone."), confirm: t("Merge") })
    .then(function (yes) { if (yes) merge(original.id, [duplicate.id]); });
}

function moveSelect(q) {
  var select = el("select", { class: "move-select", "aria-label": t("Move to…"), "data-action": "move" },
    el("option", { value: "", text: t("Move to…") }));
  otherRooms.forEach(function (room) { select.appendChild(el("option", { value: room.slug, text: room.name })); });
  select.addEventListener("blur", function () { schedule(); }); // its card may have been kept while it was open
  select.addEventListener("change", function () {
    var to = select.value;
    if (!to) return;
    select.value = "";
    confirmDialog({ title: fill("Move this question to {room}?", { room: roomName(to) }), text: t("It leaves this room with its votes; its asker is told where it went."), confirm: t("Move") })
      .then(function (yes) {
        if (!yes) return;
        run({ type: "move_question", question_id: q.id, to_room: to })
          .then(function (result) {
            var moved = (result && result.moved_to) || { room: to };
            notice(fill("Moved to {room}.", { room: roomName(moved.room) }));
          })
          .catch(function () {});
      });
  });
  return select;
}

var bulkBar = document.getElementById("bulk-bar");
var selectAll = document.getElementById("select-all");
var approveSelected = document.getElementById("approve-selected");
var dismissSelected = document.getElementById("dismiss-selected");
var mergeSelected = document.getElementById("merge-selected");

function checkedInTab() {
  return shownInTab().filter(function (q) { return state.checked.has(q.id); });
}

selectAll.addEventListener("change", function () {
  if (selectAll.checked) shownInTab().forEach(function (q) { state.checked.add(q.id); });
  else state.checked.clear();
  render();
});

function bulk(action) {
  var ids = checkedInTab().map(function (q) { return q.id; });
  if (!ids.length) return;
  var question = action === "approve" ? "Approve {n} selected questions?" : "Dismiss {n} selected questions?";
  confirmDialog({ title: fill(question, { n: ids.length }), confirm: t(action === "approve" ? "Approve" : "Dismiss") })
    .then(function (yes) {
      if (!yes) return;
      run({ type: "moderate_questions", question_ids: ids, action: action })
        .then(function () {
          state.checked.clear();
          notice(fill(action === "approve" ? "Approved {n} questions." : "Dismissed {n} questions.", { n: ids.length }));
          render();
        })
        .catch(function () {});
    });
}
approveSelected.addEventListener("click", function () { bulk("approve"); });
dismissSelected.addEventListener("click", function () { bulk("dismiss"); });

mergeSelected.addEventListener("change", function () {
  var keptId = mergeSelected.value;
  mergeSelected.value = "";
  if (!keptId) return;
  var kept = state.questions.get(keptId);
  var others = checkedInTab().map(function (q) { return q.id; }).filter(function (id) { return id !== keptId; });
  if (!kept || !others.length) return;
  confirmDialog({ title: fill("Merge {n} questions into “{text}”? This cannot be undone.", { n: others.length, text: clip(kept.text, 80) }), confirm: t("Merge") })
    .then(function (yes) { if (yes) merge(keptId, others); });
});

function renderBulkBar(shown) {
  var bulkTab = state.tab === "pending" || state.tab === "live";
  bulkBar.hidden = !bulkTab || shown.length === 0;
  var known = new Set(shown.map(function (q) { return q.id; }));
  state.checked.forEach(function (id) { if (!known.has(id)) state.checked.delete(id); });
  var checked = shown.filter(function (q) { return state.checked.has(q.id); });
  selectAll.checked = checked.length > 0 && checked.length === shown.length;
  selectAll.indeterminate = checked.length > 0 && checked.length < shown.length;
  document.getElementById("selected-count").textContent = fill("{n} selected", { n: checked.length });
  approveSelected.hidden = state.tab !== "pending";
  approveSelected.disabled = checked.length === 0;
  dismissSelected.disabled = checked.length === 0;
  mergeSelected.disabled = checked.length < 2;
  var mergeKey = JSON.stringify(checked.length >= 2 ? checked.map(function (q) { return [q.id, clip(q.text, 70)]; }) : []);
  if (mergeSelected.dataset.key === mergeKey) return;
  mergeSelected.dataset.key = mergeKey;
  var options = [el("option", { value: "", text: t("Merge selected into…") })];
  if (checked.length >= 2) {
    checked.forEach(function (q) { options.push(el("option", { value: q.id, text: clip(q.text, 70) })); });
  }
  mergeSelected.replaceChildren.apply(mergeSelected, options);
  mergeSelected.value = "";
}

var cardCache = new Map(); // question id -> {key, node}

function cardKey(q) {
  var editing = state.editing.get(q.id);
  var original = ARCHIVED.indexOf(q.status) < 0 && q.duplicate_of ? mergeTarget(q.duplicate_of) : null;
  var into = q.status === "merged" ? state.questions.get(q.merged_into || "") : null;
  // votes are left out: a new count is written into the card it has (cardFor), not a new card
  return JSON.stringify([Object.assign({}, q, { votes: null }), state.settings.answering_question_id === q.id, state.selected === q.id, state.checked.has(q.id),
    editing ? editing.kind : null, original ? [original.id, original.text] : null, into ? into.text : null,
    state.alerts.get("question:" + q.id) || null, state.compact, state.expanded.has(q.id)]);
}

function cardFor(q, saved) {
  var key = cardKey(q);
  var cached = cardCache.get(q.id);
  if (cached && cached.key === key) {
    if (cached.votes !== q.votes) {
      cached.votes = q.votes;
      var count = cached.node.querySelector(".q-votes");
      if (count) count.textContent = "▲ " + q.votes;
    }
    return cached.node;
  }
  if (cached && saved && saved.id === q.id && saved.tag === "SELECT" && saved.item === cached.node) {
    // an open "Move to…" list is not rebuilt under the pointer: the card is redrawn once it closes
    var votes = cached.node.querySelector(".q-votes");
    if (votes) votes.textContent = "▲ " + q.votes;
    cached.key = null;
    return cached.node;
  }
  var node = card(q);
  cardCache.set(q.id, { key: key, node: node, votes: q.votes });
  return node;
}

var STATUS_LABELS = { dismissed: "Dismissed", merged: "Merged", moved: "Moved" };

function card(q) {
  var answering = state.settings.answering_question_id === q.id;
  var selected = state.selected === q.id;
  var editing = state.editing.get(q.id);
  var archived = ARCHIVED.indexOf(q.status) >= 0;
  var checkable = q.status === "pending" || q.status === "live";
  var heldByFilter = (q.flags || []).indexOf("word_filter") >= 0;
  var meta = el("p", { class: "q-meta" },
    archived ? el("span", { class: "badge badge-status badge-" + q.status, text: t(STATUS_LABELS[q.status]) }) : null,
    answering ? el("span", { class: "badge badge-live", text: t("Now answering") }) : null,
    q.starred ? el("span", { class: "badge badge-star", text: "★ " + t("Starred") }) : null,
    heldByFilter ? el("span", { class: "badge badge-filter", text: "⚠ " + t("Held by word filter") }) : null,
    alertBadge(state.alerts.get("question:" + q.id)),
    el("span", { class: "q-author", dir: "auto", text: q.author_name || t("Anonymous") }),
    el("span", { class: "q-time", text: timeOf(q.asked_at) }),
    el("span", { class: "q-votes", text: "▲ " + q.votes }));
  (q.labels || []).forEach(function (label) {
    meta.appendChild(el("span", { class: "chip", dir: "auto", text: label }));
  });
  var body = el("div", { class: "q-body" }, meta);
  if (editing && editing.kind === "edit") body.appendChild(editor(q, "edit"));
  else body.appendChild(el("p", { class: "q-text", dir: "auto", text: q.text }));
  if (q.original_text && q.original_text !== q.text) {
    body.appendChild(el("p", { class: "q-original muted small", dir: "auto" },
      el("span", { text: t("Edited; original:") + " " }), q.original_text));
  }
  var askers = q.merged_askers || [];
  if (askers.length) {
    var names = askers.map(function (a) { return a.author_name || t("Anonymous"); });
    body.appendChild(el("p", {
      class: "q-also small",
      title: askers.map(function (a) { return "• " + a.text; }).join("\n"),
    }, el("strong", { text: fill("Also asked by {n}", { n: askers.length }) }), " (" + names.join(", ") + ")"));
  }
  var original = !archived && q.duplicate_of ? mergeTarget(q.duplicate_of) : null;
  if (original && original.id !== q.id) {
    body.appendChild(el("div", { class: "q-duplicate small" },
      el("span", { class: "q-duplicate-label", text: t("Possible duplicate of:") + " " }),
      el("span", { class: "q-duplicate-text", dir: "auto", text: clip(original.text, 160) }),
      button(t("Merge into it"), function () { confirmMerge(original, q); }, { "data-action": "merge-into-duplicate" })));
  }
  if (q.status === "merged") {
    var into = state.questions.get(q.merged_into || "");
    body.appendChild(el("p", { class: "q-archive-note muted small", dir: "auto" },
      el("span", { text: t("Merged into:") + " " }), into ? clip(into.text, 160) : ""));
  } else if (q.status === "moved") {
    body.appendChild(el("p", { class: "q-archive-note muted small" },
      el("span", { text: t("Moved to:") + " " }), roomName(q.moved_to || "")));
  }
  if (editing && editing.kind === "labels") body.appendChild(editor(q, "labels"));
  if (editing && editing.kind === "reply") body.appendChild(editor(q, "reply"));
  else if (q.reply) {
    body.appendChild(el("div", { class: "q-reply" },
      el("span", { class: "q-reply-label", text: t("Reply from the moderator") }),
      el("p", { dir: "auto", text: q.reply })));
  }
  var actions = el("div", { class: "actions" });
  var add = function (node) { actions.appendChild(node); };
  // compact: the question's own actions and Star on the card's line, the rest behind "More"
  var more = state.compact ? el("div", { class: "actions q-more-actions" }) : actions;
  var addMore = function (node) { more.appendChild(node); };
  if (q.status === "pending") {
    add(button(t("Approve"), function () { act(q.id, "approve"); }, { class: "button button-small button-primary", "data-action": "approve" }));
    add(button(t("Dismiss"), function () { act(q.id, "dismiss"); }, { "data-action": "dismiss" }));
  } else if (q.status === "live") {
    add(answering
      ? button(t("Remove highlight"), function () { highlight(null); }, { "data-action": "unhighlight" })
      : button(t("Highlight"), function () { highlight(q.id); }, { class: "button button-small button-primary", "data-action": "highlight" }));
    add(button(t("Mark answered"), function () { act(q.id, "mark_answered"); }, { "data-action": "mark_answered" }));
    add(button(t("Dismiss"), function () { act(q.id, "dismiss"); }, { "data-action": "dismiss" }));
  } else if (q.status === "answered" || q.status === "dismissed") {
    add(button(t("Restore"), function () { act(q.id, "restore"); }, { "data-action": "restore" }));
  }
  if (q.status !== "merged" && q.status !== "moved") {
    add(button(q.starred ? t("Unstar") : t("Star"), function () {
      var now = state.questions.get(q.id) || q;
      run({ type: "star_question", question_id: q.id, starred: !now.starred }).catch(function () {});
    }, { "aria-pressed": q.starred ? "true" : "false", "data-action": "star" }));
    if (!editing) {
      addMore(button(t("Edit"), function () { editor(q, "edit"); render(); }, { "data-action": "edit" }));
      addMore(button(t("Reply"), function () { editor(q, "reply"); render(); }, { "data-action": "reply" }));
      addMore(button(t("Labels"), function () { editor(q, "labels"); render(); }, { "data-action": "labels" }));
    }
    // a dismissed question would arrive public in the other room: restore it first
    if (otherRooms.length && q.status !== "dismissed") addMore(moveSelect(q));
  }
  var expanded = state.expanded.has(q.id);
  if (more !== actions && more.children.length) {
    add(button(t("More"), function () {
      if (state.expanded.has(q.id)) state.expanded.delete(q.id); else state.expanded.add(q.id);
      render();
    }, { "aria-expanded": expanded ? "true" : "false", "aria-label": fill("More actions for: {text}", { text: clip(q.text, 60) }),
      "data-action": "more", class: "button button-small q-more-toggle" }));
  }
  body.appendChild(actions);
  if (more !== actions && expanded) body.appendChild(more);
  var children = [];
  if (checkable) {
    var box = el("input", { type: "checkbox", class: "q-check", "aria-label": fill("Select: {text}", { text: clip(q.text, 60) }) });
    box.checked = state.checked.has(q.id);
    box.addEventListener("change", function () {
      if (box.checked) state.checked.add(q.id); else state.checked.delete(q.id);
      render();
    });
    children.push(el("label", { class: "q-select" }, box));
  }
  children.push(body);
  var root = el("li", {
    class: "mod-question" + (selected ? " selected" : "") + (answering ? " question-answering" : "") + (expanded ? " expanded" : "") +
      (q.starred ? " starred" : "") + (heldByFilter && q.status === "pending" ? " held" : "") +
      (state.checked.has(q.id) ? " checked" : "") + (archived ? " archived" : ""),
    dataset: { id: q.id, status: q.status },
    "aria-current": selected ? "true" : null,
  });
  children.forEach(function (child) { root.appendChild(child); });
  root.addEventListener("click", function (event) {
    if (event.target.closest("button, textarea, input, form, select, label")) return;
    state.selected = q.id;
    render();
  });
  return root;
}

function render() {
  performance.mark("console-render-start"); // bench/console_bench.py reads these measures
  drawQuestions();
  polls.render();
  renderScene();
  renderPresenterNote();
  performance.measure("console-render", "console-render-start");
}

function drawQuestions() {
  var counts = { pending: 0, live: 0, answered: 0, archived: 0 };
  state.questions.forEach(function (q) { var tab = tabOf(q); if (tab in counts) counts[tab] += 1; });
  Object.keys(counts).forEach(function (status) {
    document.querySelector('[data-count="' + status + '"]').textContent = String(counts[status]);
  });
  tabs.forEach(function (tab) { tab.setAttribute("aria-selected", tab.dataset.tab === state.tab ? "true" : "false"); });
  document.querySelectorAll("[data-mode]").forEach(function (b) {
    b.setAttribute("aria-pressed", b.dataset.mode === state.settings.moderation ? "true" : "false");
  });

  var shown = shownInTab();
  renderFilters(shown.length, counts[state.tab]);
  state.editing.forEach(function (value, id) { if (!state.questions.has(id)) state.editing.delete(id); });
  if (state.selected && !shown.some(function (q) { return q.id === state.selected; })) state.selected = null;
  renderBulkBar(shown);
  var saved = focusIn(list, ".mod-question");
  cardCache.forEach(function (value, id) { if (!state.questions.has(id)) cardCache.delete(id); });
  var nodes = shown.map(function (q) { return cardFor(q, saved); });
  arrange(list, nodes, saved && nodes.indexOf(saved.item) >= 0 ? saved.item : null);
  restoreFocus(list, ".mod-question", saved); // the Reply box being typed in included
  document.getElementById("mod-empty").hidden = shown.length > 0;

  var strip = document.getElementById("mod-answering");
  var answering = state.questions.get(state.settings.answering_question_id || "");
  strip.hidden = !answering;
  document.getElementById("mod-answering-text").textContent = answering ? answering.text : "";
}

// -- keyboard ------------------------------------------------------------------------------
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  if (document.querySelector("dialog[open]")) return; // keys answer the dialog, not the list behind it
  var shown = shownInTab();
  var index = shown.findIndex(function (q) { return q.id === state.selected; });
  var current = index >= 0 ? shown[index] : null;
  switch (event.key) {
    case "j":
      state.selected = shown.length ? shown[Math.min(shown.length - 1, index + 1)].id : null;
      break;
    case "k":
      state.selected = shown.length ? shown[Math.max(0, index - 1)].id : null;
      break;
    case "a":
      if (current && current.status === "pending") act(current.id, "approve");
      break;
    case "d":
      if (current && (current.status === "pending" || current.status === "live")) act(current.id, "dismiss");
      break;
    case "h":
      if (current && current.status === "live") highlight(state.settings.answering_question_id === current.id ? null : current.id);
      break;
    case "m":
      if (current && current.status === "live") act(current.id, "mark_answered");
      break;
    case "x":
      if (current && (current.status === "pending" || current.status === "live")) {
        if (state.checked.has(current.id)) state.checked.delete(current.id); else state.checked.add(current.id);
      }
      break;
    default:
      return;
  }
  event.preventDefault();
  if (current && "admh".indexOf(event.key) >= 0) {
    var next = shown[index + 1] || shown[index - 1]; // the acted-on question usually leaves this tab
    if (event.key !== "h") state.selected = next ? next.id : null;
  }
  render();
  var node = list.querySelector(".selected");
  if (node) node.scrollIntoView({ block: "nearest" });
});

// -- the screen's scene ---------------------------------------------------------------------
document.querySelectorAll("[data-scene]").forEach(function (b) {
  b.addEventListener("click", function () {
    if (state.settings.screen_scene === b.dataset.scene) return;
    run({ type: "set_screen_scene", scene: b.dataset.scene }).catch(function () {});
  });
});

// -- the private note to the presenter view ------------------------------------------------
var noteForm = document.getElementById("presenter-note-form");
var noteInput = document.getElementById("presenter-note-text");
noteForm.addEventListener("submit", function (event) {
  event.preventDefault();
  var text = noteInput.value.trim();
  if (!text) return;
  run({ type: "set_presenter_note", text: text })
    .then(function () { noteInput.value = ""; notice(t("Sent to the presenter.")); })
    .catch(function () {});
});
document.getElementById("presenter-note-clear").addEventListener("click", function () {
  run({ type: "set_presenter_note", text: null }).catch(function () {});
});

function renderPresenterNote() {
  var note = state.presenterNote;
  document.getElementById("presenter-note-current").hidden = !note;
  document.getElementById("presenter-note-shown").textContent = note ? note.text : "";
  document.getElementById("presenter-note-clear").disabled = !note;
}

function renderScene() {
  var current = state.settings.screen_scene || "auto";
  document.querySelectorAll("[data-scene]").forEach(function (b) {
    b.setAttribute("aria-pressed", b.dataset.scene === current ? "true" : "false");
  });
}
