/* admin.js: the admin page, live. Polls GET /api/admin/overview every few seconds, keeps the
 * server-rendered table up to date, and lists every room's pending questions with Approve and
 * Dismiss, sent as POST /api/rooms/{room}/commands. Nodes are updated in place (never rebuilt on
 * every poll), so a button under the pointer stays the same button. */
import { arrange, el, notice, scriptData } from "./lib/dom.js";
import { errorText, fill, t, timeOf } from "./lib/i18n.js";
import { postCommand } from "./lib/stream.js";

var language = scriptData(import.meta.url).lang === "zh" ? "zh" : "en";
var EVERY = 3000;

var tbody = document.getElementById("admin-rows");
var note = document.getElementById("admin-note");
var section = document.getElementById("admin-pending");
var roomsBox = document.getElementById("admin-pending-rooms");
var empty = document.getElementById("admin-pending-empty");

var rows = new Map(); // slug -> <tr>
var groups = new Map(); // slug -> {root, title, count, more, list, items: Map(id -> parts)}
var acted = new Set(); // question ids approved or dismissed here, hidden until the server agrees
var busy = false;
var again = false;


function nameOf(room) {
  return (room.name && (room.name[language] || room.name.en)) || room.slug;
}

function setCell(row, field, node) {
  var cell = row.querySelector('[data-field="' + field + '"]');
  if (!cell) return;
  var text = typeof node === "string" ? node : null;
  if (text !== null) {
    if (cell.textContent !== text || cell.children.length) cell.textContent = text;
  } else {
    cell.replaceChildren(node);
  }
}

/* The room's poll open for voting, if any: a closed one left on the screen is not current. */
function openPoll(room) {
  return room.active_poll && room.active_poll.status === "open" ? room.active_poll : null;
}

/* The table's last row: every room added up. */
function drawTotals(rooms) {
  var sum = function (pick) { return rooms.reduce(function (total, room) { return total + pick(room); }, 0); };
  var cell = function (name) { return tbody.parentNode.querySelector('[data-total="' + name + '"]'); };
  var values = {
    connections: String(sum(function (room) { return room.connections || 0; })),
    pending: String(sum(function (room) { return room.pending_count || 0; })),
    answering: fill("{n} answering", { n: sum(function (room) { return room.answering ? 1 : 0; }) }),
    polls: fill("{n} open", { n: sum(function (room) { return openPoll(room) ? 1 : 0; }) }),
  };
  Object.keys(values).forEach(function (name) {
    var node = cell(name);
    if (node && node.textContent !== values[name]) node.textContent = values[name];
  });
}

function drawRow(room) {
  var row = rows.get(room.slug) || tbody.querySelector('tr[data-room="' + room.slug + '"]');
  if (!row) return; // a room the page was not rendered with: reload shows it
  rows.set(room.slug, row);
  setCell(row, "connections", String(room.connections));
  var pending = room.pending_count || 0;
  if (pending) setCell(row, "pending", el("span", { class: "badge badge-pending", text: String(pending) }));
  else setCell(row, "pending", "0");
  setCell(row, "answering", room.answering ? room.answering.text : "—");
  setCell(row, "poll", openPoll(room) ? room.active_poll.question : "—");
  setCell(row, "moderation", room.moderation === "pre" ? t("Approve first") : t("Publish at once"));
  setCell(row, "video", videoCell(room.video));
}

/* The room's video: live or not and, while live or packaged, how it reaches viewers here:
 * WebRTC viewers, the HLS packager's state, and the HLS segments served (behind a cache: its misses). */
function recordingLines(recording) {
  var mb = ((recording.bytes || 0) / 1048576).toFixed(1);
  var text = recording.error ? fill("Recording stopped: {error}", { error: recording.error })
    : fill(recording.recording ? "Recording: {mb} MB on disk" : "Recorded: {mb} MB on disk", { mb: mb });
  var kept = recording.keep_days ? fill("Recordings kept {days} days", { days: recording.keep_days }) : t("Recordings kept for ever");
  return [el("span", { class: "admin-video-line" + (recording.error ? " admin-video-error" : ""),
    dataset: { video: "recording" }, text: text }),
    el("span", { class: "admin-video-line", dataset: { video: "retention" }, text: kept })];
}

function videoCell(video) {
  var live = !!(video && video.live);
  var badge = el("span", { class: "badge " + (live ? "badge-live" : "badge-done"),
    text: !video ? t("Not set up") : live ? t("Live") : t("Offline") });
  var hls = video && video.hls;
  var recorded = video && video.recording && (video.recording.bytes || video.recording.error);
  if (!video || !(live || (hls && hls.packaging))) { // offline: what its recordings take, if any
    return recorded ? el.apply(null, ["span", { class: "admin-video" }, badge].concat(recordingLines(video.recording))) : badge;
  }
  var lines = [el("span", { class: "admin-video-line", dataset: { video: "webrtc" }, text: fill("WebRTC viewers: {n}", { n: video.viewers || 0 }) })];
  if (hls) {
    var state = hls.packaging
      ? fill("HLS: packaging, {segments} segments in the playlist, discontinuities: {discontinuities}", { segments: hls.segments, discontinuities: hls.discontinuity_sequence })
      : t("HLS: not packaging");
    lines.push(el("span", { class: "admin-video-line", dataset: { video: "hls" }, text: state }));
    lines.push(el("span", { class: "admin-video-line", dataset: { video: "hls-requests" },
      text: fill("HLS segment requests: {n}", { n: (hls.requests && hls.requests.segment) || 0 }) }));
  }
  if (video.recording) lines = lines.concat(recordingLines(video.recording)); // a full disk, or what it takes
  return el.apply(null, ["span", { class: "admin-video" }, badge].concat(lines));
}

function send(room, question, action, parts) {
  parts.buttons.forEach(function (b) { b.disabled = true; });
  postCommand(room.slug, { type: "moderate_question", question_id: question.id, action: action })
    .then(function () {
      acted.add(question.id);
      notice(action === "approve" ? t("Approved.") : t("Dismissed."));
      refresh();
    })
    .catch(function (error) {
      parts.buttons.forEach(function (b) { b.disabled = false; });
      notice(errorText(error), "error");
      refresh();
    });
}

function makeItem(room, question) {
  var parts = {};
  parts.badges = el("span", { class: "admin-q-badges" });
  parts.author = el("span", { class: "q-author", dir: "auto" });
  parts.time = el("span", { class: "q-time" });
  parts.text = el("p", { class: "q-text", dir: "auto" });
  var approve = el("button", {
    type: "button", class: "button button-small button-primary", text: t("Approve"), "data-action": "approve",
    onclick: function () { send(room, parts.question, "approve", parts); },
  });
  var dismiss = el("button", {
    type: "button", class: "button button-small", text: t("Dismiss"), "data-action": "dismiss",
    onclick: function () { send(room, parts.question, "dismiss", parts); },
  });
  parts.buttons = [approve, dismiss];
  parts.root = el("li", { class: "admin-question", dataset: { id: question.id } },
    el("div", { class: "q-body" },
      el("p", { class: "q-meta" }, parts.badges, parts.author, parts.time),
      parts.text),
    el("div", { class: "admin-question-actions" }, approve, dismiss));
  return parts;
}

function fillItem(parts, question) {
  parts.question = question;
  if (parts.text.textContent !== question.text) parts.text.textContent = question.text;
  parts.author.textContent = question.author_name || t("Anonymous");
  parts.time.textContent = timeOf(question.asked_at);
  var badges = [];
  if ((question.flags || []).indexOf("word_filter") >= 0) badges.push(el("span", { class: "badge badge-filter", text: "⚠ " + t("Held by word filter") }));
  if (question.duplicate_of) badges.push(el("span", { class: "badge", text: t("Possible duplicate") }));
  parts.badges.replaceChildren.apply(parts.badges, badges);
  parts.badges.hidden = badges.length === 0;
}

function makeGroup(room) {
  var group = { items: new Map() };
  group.title = el("h3", { class: "admin-group-title" });
  group.count = el("span", { class: "badge badge-pending" });
  group.more = el("p", { class: "muted small", hidden: true });
  group.list = el("ol", { class: "admin-question-list" });
  group.root = el("article", { class: "card admin-group", dataset: { room: room.slug } },
    el("header", { class: "admin-group-head" },
      group.title, group.count,
      el("a", { class: "nav-link", href: "/r/" + encodeURIComponent(room.slug) + "/moderate", text: t("Moderate") })),
    group.list,
    group.more);
  return group;
}

/* A room's group of questions waiting, or null when none is (the group is forgotten). */
function drawGroup(room) {
  var pending = (room.pending || []).filter(function (q) { return !acted.has(q.id); });
  var group = groups.get(room.slug);
  if (!pending.length) {
    groups.delete(room.slug);
    return null;
  }
  if (!group) { group = makeGroup(room); groups.set(room.slug, group); }
  group.title.textContent = nameOf(room);
  group.count.textContent = fill("{n} pending", { n: room.pending_count });
  group.more.hidden = room.pending_count <= (room.pending || []).length;
  group.more.textContent = fill("Showing the first {shown} of {n}.", { shown: (room.pending || []).length, n: room.pending_count });
  var items = new Map();
  arrange(group.list, pending.map(function (question) {
    var parts = group.items.get(question.id) || makeItem(room, question);
    fillItem(parts, question);
    items.set(question.id, parts);
    return parts.root;
  }));
  group.items = items;
  return group;
}

function draw(data) {
  var rooms = (data && data.rooms) || [];
  var listed = new Set();
  rooms.forEach(function (room) {
    (room.pending || []).forEach(function (q) { listed.add(q.id); });
  });
  acted.forEach(function (id) { if (!listed.has(id)) acted.delete(id); }); // the server agrees now
  var slugs = new Set();
  var shown = [];
  rooms.forEach(function (room) {
    slugs.add(room.slug);
    drawRow(room);
    var group = drawGroup(room);
    if (group) shown.push(group.root);
  });
  groups.forEach(function (group, slug) { if (!slugs.has(slug)) groups.delete(slug); });
  arrange(roomsBox, shown);
  drawTotals(rooms);
  section.hidden = false;
  empty.hidden = shown.length > 0;
  note.textContent = fill("Updated live, every few seconds. Last update: {time}.", { time: new Date().toLocaleTimeString() });
  note.classList.remove("form-feedback-error");
}

function refresh() {
  if (busy) { again = true; return; }
  busy = true;
  fetch("/api/admin/overview", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(draw)
    .catch(function () {
      note.textContent = t("Could not reach the server; retrying…");
      note.classList.add("form-feedback-error");
    })
    .then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
}

// -- replays: each session's offsets and whether it is hidden (POST …/replay/{session}/settings) --
function duration(seconds) {
  var whole = Math.round(seconds);
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}

/* After a save: the replay's state badge and how much the new range holds, from the replay's
 * own API (admins may read it at any time), so the form shows what viewers will get. */
function drawReplay(form, settings) {
  var row = form.closest("tr");
  var base = "/api/rooms/" + encodeURIComponent(form.dataset.room) + "/replay/" + encodeURIComponent(form.dataset.session);
  return fetch(base, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .catch(function () { return null; })
    .then(function (info) {
      var recorded = info ? info.duration : 0;
      var cell = row.querySelector('[data-field="recorded"]');
      cell.dataset.seconds = String(recorded);
      cell.textContent = recorded ? fill("Recorded: {duration}", { duration: duration(recorded) }) : t("Nothing recorded");
      var state = row.querySelector('[data-field="replay"]');
      var badge = state.querySelector(".badge");
      var running = badge && badge.dataset.state === "running"; // not over yet: public once it is
      var next = settings.hidden ? el("span", { class: "badge badge-dismissed", dataset: { state: running ? "running" : "hidden" }, text: t("Hidden") })
        : running ? el("span", { class: "badge badge-draft", dataset: { state: "running" }, text: t("Not over yet") })
        : recorded ? el("span", { class: "badge badge-live", dataset: { state: "public" }, text: t("Public") })
        : null;
      if (badge) badge.remove();
      if (next) state.insertBefore(next, state.firstChild);
      state.querySelector(".admin-replay-link").hidden = !recorded;
    });
}

document.querySelectorAll(".replay-form").forEach(function (form) {
  var feedback = form.querySelector(".form-feedback");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      hidden: form.elements.hidden.checked,
      start_offset: Number(form.elements.start_offset.value),
      end_offset: Number(form.elements.end_offset.value),
    };
    var button = form.querySelector("button");
    button.disabled = true;
    feedback.textContent = "";
    feedback.className = "form-feedback small";
    var url = "/api/rooms/" + encodeURIComponent(form.dataset.room) + "/replay/" + encodeURIComponent(form.dataset.session) + "/settings";
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw (data && data.error) || { code: "unavailable" };
          return data;
        });
      })
      .then(function (saved) {
        feedback.textContent = t("Saved.");
        return drawReplay(form, saved);
      })
      .catch(function (error) {
        feedback.textContent = errorText(error);
        feedback.className = "form-feedback small form-feedback-error";
      })
      .then(function () { button.disabled = false; });
  });
});

refresh();
setInterval(function () {
  if (document.visibilityState !== "hidden") refresh();
}, EVERY);
document.addEventListener("visibilitychange", function () {
  if (document.visibilityState === "visible") refresh();
});
