/* moderator.js: the moderation console: questions by status, highlight, edit, reply, polls. */
(function () {
  "use strict";
  var L = window.Live;
  var t = L.t;
  var el = L.el;
  var roomSlug = document.currentScript.dataset.room;

  var state = {
    settings: {},
    questions: new Map(),
    polls: new Map(),
    tab: "pending",
    selected: null, // question id
    editing: new Map(), // question id -> {kind: "edit"|"reply", node}
  };

  var list = document.getElementById("mod-list");
  var pollList = document.getElementById("poll-list");
  var schedule = L.scheduler(render);

  var live = new L.LiveRoom(roomSlug, "moderator", {
    onSnapshot: function (message) {
      state.settings = message.room.settings || {};
      state.questions = new Map();
      (message.room.questions || []).forEach(function (q) { state.questions.set(q.id, q); });
      state.polls = new Map();
      (message.room.polls || []).forEach(function (p) { state.polls.set(p.id, p); });
      schedule();
    },
    onMessage: function (message) {
      if (L.applyRoomMessage(state, message)) schedule();
    },
  });

  function run(command) {
    return live.command(command).catch(function (error) {
      L.notice(L.errorText(error), "error");
      throw error;
    });
  }

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
      render();
    });
  });

  document.querySelectorAll("[data-mode]").forEach(function (button) {
    button.addEventListener("click", function () {
      var mode = button.dataset.mode;
      if (state.settings.moderation === mode) return;
      run({ type: "set_moderation", mode: mode })
        .then(function () { L.notice(t(mode === "pre" ? "Mode pre" : "Mode post")); })
        .catch(function () {});
    });
  });

  document.getElementById("clear-highlight").addEventListener("click", function () { highlight(null); });

  // -- questions -----------------------------------------------------------------------------
  function byTab(status) {
    var all = Array.from(state.questions.values()).filter(function (q) { return q.status === status; });
    if (status === "pending") return all.sort(function (a, b) { return a.asked_at - b.asked_at; });
    if (status === "live") {
      return all.sort(function (a, b) {
        return (Number(b.starred) - Number(a.starred)) || (b.votes - a.votes) || (a.asked_at - b.asked_at);
      });
    }
    if (status === "answered") return all.sort(function (a, b) { return (b.answered_at || 0) - (a.answered_at || 0); });
    return all.sort(function (a, b) { return b.asked_at - a.asked_at; });
  }

  function button(label, onclick, extra) {
    return el("button", Object.assign({ type: "button", class: "button button-small", text: label, onclick: onclick }, extra || {}));
  }

  function editor(q, kind) {
    var existing = state.editing.get(q.id);
    if (existing && existing.kind === kind) return existing.node;
    var area = el("textarea", {
      rows: kind === "edit" ? 3 : 2,
      maxlength: kind === "edit" ? "500" : "1000",
      placeholder: kind === "reply" ? t("Reply placeholder") : null,
      "aria-label": kind === "edit" ? t("Edit") : t("Reply"),
    });
    area.value = kind === "edit" ? q.text : q.reply || "";
    var node = el("form", { class: "inline-editor" },
      area,
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "button button-small button-primary", text: t("Save") }),
        button(t("Cancel"), function () { close(); })));
    function close() {
      state.editing.delete(q.id);
      render();
    }
    node.addEventListener("submit", function (event) {
      event.preventDefault();
      var command = kind === "edit"
        ? { type: "edit_question", question_id: q.id, text: area.value }
        : { type: "reply_to_question", question_id: q.id, reply: area.value.trim() ? area.value : null };
      run(command).then(close).catch(function () {});
    });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close();
    });
    state.editing.set(q.id, { kind: kind, node: node });
    setTimeout(function () { area.focus(); }, 0);
    return node;
  }

  function card(q) {
    var answering = state.settings.answering_question_id === q.id;
    var selected = state.selected === q.id;
    var editing = state.editing.get(q.id);
    var meta = el("p", { class: "q-meta" },
      answering ? el("span", { class: "badge badge-live", text: t("Now answering") }) : null,
      q.starred ? el("span", { class: "badge badge-star", text: "★ " + t("Starred") }) : null,
      (q.flags || []).length ? el("span", { class: "badge badge-pending", text: t("Flagged") }) : null,
      el("span", { class: "q-author", dir: "auto", text: q.author_name || t("Anonymous") }),
      el("span", { class: "q-time", text: L.timeOf(q.asked_at) }),
      el("span", { class: "q-votes", text: "▲ " + q.votes }));
    var body = el("div", { class: "q-body" }, meta);
    if (editing && editing.kind === "edit") body.appendChild(editor(q, "edit"));
    else body.appendChild(el("p", { class: "q-text", dir: "auto", text: q.text }));
    if (q.original_text && q.original_text !== q.text) {
      body.appendChild(el("p", { class: "q-original muted small", dir: "auto" },
        el("span", { text: t("Edited; original:") + " " }), q.original_text));
    }
    if (editing && editing.kind === "reply") body.appendChild(editor(q, "reply"));
    else if (q.reply) {
      body.appendChild(el("div", { class: "q-reply" },
        el("span", { class: "q-reply-label", text: t("Reply from the moderator") }),
        el("p", { dir: "auto", text: q.reply })));
    }
    var actions = el("div", { class: "actions" });
    var add = function (node) { actions.appendChild(node); };
    if (q.status === "pending") {
      add(button(t("Approve"), function () { act(q.id, "approve"); }, { class: "button button-small button-primary", "data-action": "approve" }));
      add(button(t("Dismiss"), function () { act(q.id, "dismiss"); }, { "data-action": "dismiss" }));
    } else if (q.status === "live") {
      add(answering
        ? button(t("Remove highlight"), function () { highlight(null); }, { "data-action": "unhighlight" })
        : button(t("Highlight"), function () { highlight(q.id); }, { class: "button button-small button-primary", "data-action": "highlight" }));
      add(button(t("Mark answered"), function () { act(q.id, "mark_answered"); }, { "data-action": "mark_answered" }));
      add(button(t("Dismiss"), function () { act(q.id, "dismiss"); }, { "data-action": "dismiss" }));
    } else {
      add(button(t("Restore"), function () { act(q.id, "restore"); }, { "data-action": "restore" }));
    }
    add(button(q.starred ? t("Unstar") : t("Star"), function () {
      run({ type: "star_question", question_id: q.id, starred: !q.starred }).catch(function () {});
    }, { "aria-pressed": q.starred ? "true" : "false", "data-action": "star" }));
    if (!editing) {
      add(button(t("Edit"), function () { editor(q, "edit"); render(); }, { "data-action": "edit" }));
      add(button(t("Reply"), function () { editor(q, "reply"); render(); }, { "data-action": "reply" }));
    }
    body.appendChild(actions);
    var root = el("li", {
      class: "mod-question" + (selected ? " selected" : "") + (answering ? " question-answering" : "") + (q.starred ? " starred" : ""),
      dataset: { id: q.id },
      "aria-current": selected ? "true" : null,
    }, body);
    root.addEventListener("click", function (event) {
      if (event.target.closest("button, textarea, input, form")) return;
      state.selected = q.id;
      render();
    });
    return root;
  }

  function render() {
    var counts = { pending: 0, live: 0, answered: 0, dismissed: 0 };
    state.questions.forEach(function (q) { if (q.status in counts) counts[q.status] += 1; });
    Object.keys(counts).forEach(function (status) {
      document.querySelector('[data-count="' + status + '"]').textContent = String(counts[status]);
    });
    tabs.forEach(function (tab) { tab.setAttribute("aria-selected", tab.dataset.tab === state.tab ? "true" : "false"); });
    document.querySelectorAll("[data-mode]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.mode === state.settings.moderation ? "true" : "false");
    });

    var shown = byTab(state.tab);
    state.editing.forEach(function (value, id) { if (!state.questions.has(id)) state.editing.delete(id); });
    if (state.selected && !shown.some(function (q) { return q.id === state.selected; })) state.selected = null;
    var focused = document.activeElement;
    list.replaceChildren.apply(list, shown.map(card));
    if (focused && focused.tagName === "TEXTAREA" && document.contains(focused)) focused.focus();
    document.getElementById("mod-empty").hidden = shown.length > 0;

    var strip = document.getElementById("mod-answering");
    var answering = state.questions.get(state.settings.answering_question_id || "");
    strip.hidden = !answering;
    document.getElementById("mod-answering-text").textContent = answering ? answering.text : "";

    renderPolls();
  }

  // -- keyboard ------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var shown = byTab(state.tab);
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

  // -- polls ---------------------------------------------------------------------------------
  var pollForm = document.getElementById("poll-form");
  var kindSelect = document.getElementById("poll-kind");
  function showOptionsField() {
    var choice = kindSelect.value === "single_choice" || kindSelect.value === "multiple_choice";
    document.getElementById("poll-options-field").hidden = !choice;
  }
  kindSelect.addEventListener("change", showOptionsField);
  showOptionsField();

  pollForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var kind = kindSelect.value;
    var options = document.getElementById("poll-options").value.split("\n")
      .map(function (o) { return o.trim(); }).filter(Boolean);
    run({
      type: "create_poll",
      kind: kind,
      question: document.getElementById("poll-question").value,
      options: kind === "single_choice" || kind === "multiple_choice" ? options : [],
      visibility: document.getElementById("poll-visibility").value,
    }).then(function () {
      pollForm.reset();
      showOptionsField();
      L.notice(t("Poll created"));
    }).catch(function () {});
  });

  function changePoll(poll, action) {
    if (action === "delete" && !window.confirm(t("Delete poll?"))) return;
    run({ type: "change_poll", poll_id: poll.id, action: action }).catch(function () {});
  }

  function renderPolls() {
    var polls = Array.from(state.polls.values()).sort(function (a, b) { return b.created_at - a.created_at; });
    var items = polls.map(function (poll) {
      var active = state.settings.active_poll_id === poll.id;
      var statusLabel = poll.status === "draft" ? t("Draft") : poll.status === "open" ? t("Open") : t("Closed");
      var actions = el("div", { class: "actions" });
      if (poll.status !== "open") actions.appendChild(button(t("Open"), function () { changePoll(poll, "open"); }, { class: "button button-small button-primary" }));
      else actions.appendChild(button(t("Close"), function () { changePoll(poll, "close"); }));
      if (poll.visibility === "on_reveal" && !poll.revealed && poll.status !== "draft") {
        actions.appendChild(button(t("Reveal results"), function () { changePoll(poll, "reveal"); }));
      }
      actions.appendChild(button(t("Delete"), function () { changePoll(poll, "delete"); }, { class: "button button-small button-danger" }));
      var tally = poll.tally || {};
      return el("li", { class: "card poll-item" + (active ? " poll-active" : "") },
        el("p", { class: "q-meta" },
          el("span", { class: "badge badge-" + poll.status, text: statusLabel }),
          active ? el("span", { class: "badge badge-live", text: t("On screen") }) : null,
          el("span", { text: L.ballots(poll.ballots) })),
        el("p", { class: "poll-item-question", dir: "auto", text: poll.question }),
        poll.kind === "word_cloud" ? L.wordCloud(tally) : L.tallyBars(poll, tally),
        actions);
    });
    pollList.replaceChildren.apply(pollList, items);
    document.getElementById("polls-empty").hidden = polls.length > 0;
  }
})();
