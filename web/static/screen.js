/* screen.js: the venue screen. One scene at a time: the highlighted question, the active poll,
 * or the invitation to join. It reconnects forever and never shows an error. */
(function () {
  "use strict";
  var L = window.Live;
  var t = L.t;
  var roomSlug = document.currentScript.dataset.room;
  var roomUrl = document.currentScript.dataset.url;
  var state = { settings: {}, questions: new Map(), polls: new Map() };
  var schedule = L.scheduler(render);

  new L.LiveRoom(roomSlug, "screen", {
    onSnapshot: function (message) {
      state.settings = message.room.settings || {};
      state.questions = new Map();
      (message.room.questions || []).forEach(function (q) { state.questions.set(q.id, q); });
      state.polls = new Map();
      (message.room.polls || []).forEach(function (p) { state.polls.set(p.id, p); });
      schedule();
    },
    onMessage: function (message) {
      // errors and acks are never shown on a screen
      if (L.applyRoomMessage(state, message)) schedule();
    },
  }, { quiet: true });

  var scenes = {
    join: document.getElementById("scene-join"),
    question: document.getElementById("scene-question"),
    poll: document.getElementById("scene-poll"),
  };

  function show(name) {
    Object.keys(scenes).forEach(function (key) { scenes[key].hidden = key !== name; });
    document.body.dataset.scene = name;
  }

  /* Shrink the text until its box no longer overflows: the screen never scrolls. */
  function fit(node, box, sizes) {
    for (var i = 0; i < sizes.length; i++) {
      node.style.fontSize = sizes[i] + "px";
      if (box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1) return;
    }
  }

  function render() {
    var question = state.questions.get(state.settings.answering_question_id || "");
    var poll = state.polls.get(state.settings.active_poll_id || "");
    if (question) {
      show("question");
      var text = document.getElementById("screen-question-text");
      text.textContent = question.text;
      document.getElementById("screen-question-author").textContent = question.author_name || t("Anonymous");
      document.getElementById("screen-question-votes").textContent = "▲ " + question.votes;
      var length = question.text.length;
      var start = length < 60 ? 104 : length < 140 ? 84 : length < 260 ? 68 : 56;
      fit(text, text.parentNode, [start, start - 8, start - 16, 48, 42, 36, 32, 28]);
    } else if (poll) {
      show("poll");
      var heading = document.getElementById("screen-poll-question");
      heading.textContent = poll.question;
      var results = document.getElementById("screen-poll-results");
      if (poll.tally) {
        results.replaceChildren(poll.kind === "word_cloud" ? L.wordCloud(poll.tally, { big: true }) : L.tallyBars(poll, poll.tally, { big: true }));
      } else {
        results.replaceChildren(L.el("p", { class: "screen-poll-hidden", text: t("Results are shown when the moderator reveals them.") }));
      }
      var footer = L.ballots(poll.ballots);
      footer += poll.status === "open" ? " · " + t("Vote now") + " " + roomUrl : " · " + t("Poll closed");
      document.getElementById("screen-poll-footer").textContent = footer;
      fit(heading, heading, [72, 64, 56, 48, 40]);
    } else {
      show("join");
    }
  }

  /* The QR code arrives with a fixed pixel size; a viewBox lets CSS scale it to the stage. */
  var qr = document.querySelector(".join-qr svg");
  if (qr && !qr.getAttribute("viewBox") && qr.getAttribute("width") && qr.getAttribute("height")) {
    qr.setAttribute("viewBox", "0 0 " + parseFloat(qr.getAttribute("width")) + " " + parseFloat(qr.getAttribute("height")));
  }

  show("join");
})();
