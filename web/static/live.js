/* live.js: the room's live stream, shared by every page.
 *
 * new Live.LiveRoom(room, role, {onSnapshot, onMessage, onStatus})
 *   .command(obj) -> Promise(result); rejects with {code, message}.
 *
 * Every command carries an idempotency key, the same on each of its tries: the server applies a
 * command with a key once, however often it is sent, and answers a retry as it answered the first.
 * So a command with no answer in time (or whose connection dropped) is simply sent again, and
 * the person is told plainly when its fate stays unknown.
 *
 * The connection keeps the last (epoch, offset) it saw and resumes from it after a drop, so the
 * server sends only what was missed (or a fresh snapshot, after a "reload").
 * Everything shown to people is built with textContent: questions are hostile input.
 */
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return {};
    try {
      return JSON.parse(node.textContent || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  var messages = Object.assign({}, readJSON("messages"), readJSON("page-messages"));
  var messagesFor = readJSON("messages-for"); // screens: {"zh-CN": {...}, "en": {...}}

  function t(key) {
    var text = messages[key];
    return typeof text === "string" && text ? text : key;
  }

  /* A message with its {placeholders} filled: fill("Moved to {room}.", {room: "Hall B"}). */
  function fill(key, values) {
    return t(key).replace(/\{(\w+)\}/g, function (all, name) { return name in values ? String(values[name]) : all; });
  }

  /* A string in a given language (screens that show both languages at once). */
  function tIn(language, key) {
    var text = (messagesFor[language] || {})[key];
    return typeof text === "string" && text ? text : t(key);
  }

  var ERROR_CODES = ["forbidden", "not_found", "invalid", "conflict", "rate_limited", "unavailable", "unknown_outcome"];

  /* A refusal's reason in the page's language (live/domain/reasons.py: the template is the
   * catalogue's message id, its params filled in, words among them translated too); "" when the
   * server sent none the catalogue knows. */
  function reasonText(error) {
    var reason = error && typeof error.reason === "string" ? error.reason : "";
    if (!reason || typeof messages[reason] !== "string") return "";
    var params = (error && error.params) || {};
    return t(reason).replace(/\{(\w+)\}/g, function (whole, name) {
      var value = params[name];
      if (value === undefined || value === null) return whole;
      return typeof value === "string" ? t(value) : String(value);
    });
  }

  /* The page's own words for the error, with what the person can act on: how long to wait, or
   * why it was refused (which field, which limit), translated. A detail the catalogue does not
   * know is shown on English pages only: a Chinese page never shows English. */
  function errorText(error) {
    var code = error && error.code;
    var seconds = Number(error && error.retry_after);
    if (code === "rate_limited" && seconds > 0) {
      return t("Too often: try again in {seconds} s.").replace("{seconds}", String(Math.ceil(seconds)));
    }
    if (ERROR_CODES.indexOf(code) >= 0 && messages[code] && messages[code] !== code) {
      var detail = reasonText(error);
      var english = (document.documentElement.lang || "").slice(0, 2) === "en";
      if (!detail && code === "invalid" && english && typeof error.message === "string") detail = error.message.slice(0, 200);
      return detail ? t("{message} ({detail})").replace("{message}", messages[code]).replace("{detail}", detail) : messages[code];
    }
    return t("Something went wrong.");
  }

  /* el("p", {class: "x", text: "..."}, child, ...): DOM without innerHTML. */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "class") node.className = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
        else if (value === true) node.setAttribute(key, "");
        else node.setAttribute(key, String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /* A short message at the bottom of the page that fades away. */
  function notice(text, kind) {
    var box = document.getElementById("notices");
    if (!box) return;
    var item = el("p", { class: "notice" + (kind ? " notice-" + kind : ""), role: kind === "error" ? "alert" : "status", text: text });
    box.appendChild(item);
    setTimeout(function () {
      item.classList.add("notice-leaving");
      setTimeout(function () { item.remove(); }, 400);
    }, kind === "error" ? 6000 : 4000);
  }

  /* An in-page question in place of window.confirm(): a modal <dialog> (the page behind it is
   * inert), labelled by its title and described by its text; Tab and Shift+Tab stay on its
   * buttons, Escape or Cancel answers false, the confirming button true, and focus goes back to
   * where it was. The browser's own confirm() blocks every page script (the live stream stops
   * drawing) and cannot be styled, translated or tested like the page. Resolves to a boolean. */
  var dialogs = 0;
  function confirmDialog(options) {
    var opener = document.activeElement;
    var id = "live-dialog-" + (dialogs += 1);
    return new Promise(function (resolve) {
      var cancel = el("button", { type: "button", class: "button", text: options.cancel || t("Cancel"), "data-answer": "cancel" });
      var confirm = el("button", {
        type: "button",
        class: "button " + (options.danger ? "button-danger" : "button-primary"),
        text: options.confirm,
        "data-answer": "confirm",
      });
      var dialog = el("dialog", {
        class: "live-dialog",
        "aria-labelledby": id + "-title",
        "aria-describedby": options.text ? id + "-text" : null,
      },
      el("h2", { id: id + "-title", class: "live-dialog-title", dir: "auto", text: options.title }),
      options.text ? el("p", { id: id + "-text", class: "live-dialog-text", dir: "auto", text: options.text }) : null,
      el("div", { class: "live-dialog-actions" }, cancel, confirm));
      var answered = false;
      function answer(value) {
        if (answered) return;
        answered = true;
        dialog.close();
        dialog.remove();
        if (opener && opener.focus && document.contains(opener)) opener.focus({ preventScroll: true });
        resolve(value);
      }
      cancel.addEventListener("click", function () { answer(false); });
      confirm.addEventListener("click", function () { answer(true); });
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); answer(false); }); // Escape
      dialog.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { event.preventDefault(); answer(false); return; }
        if (event.key !== "Tab") return;
        var buttons = Array.prototype.slice.call(dialog.querySelectorAll("button:not([disabled])"));
        var at = buttons.indexOf(document.activeElement);
        var next = event.shiftKey ? (at <= 0 ? buttons.length - 1 : at - 1) : (at + 1) % buttons.length;
        event.preventDefault();
        buttons[next].focus();
      });
      document.body.appendChild(dialog);
      dialog.showModal();
      (options.danger ? cancel : confirm).focus(); // a destructive answer is never the default
    });
  }

  /* Several messages in one task are drawn once. */
  function scheduler(render) {
    var pending = false;
    return function () {
      if (pending) return;
      pending = true;
      setTimeout(function () {
        pending = false;
        render();
      }, 16);
    };
  }

  var PING_EVERY = 20000;
  var SILENCE_LIMIT = 45000;
  var CONNECT_LIMIT = 15000;
  var BACKOFF_MAX = 10000;

  /* Reconnecting. A restarted process is back within seconds, so while one is expected back
   * (EXPECTED_BACK after the drop) every viewer tries again every 0.5 to 3 s, at random: 5,000
   * viewers of a process that died reach it at most ~6% per 100 ms once it is back, half of them
   * within a second and all within 3 s (tests/browser/test_retries.py computes the schedule). The
   * first try is spread over 0 to 2.5 s, for the process the balancer sends them to meanwhile.
   * Then, for the next few minutes, every 1 to 4 s (a page is live again about 1.5 s after the
   * server, not 5 s), and after that every 5 to 10 s. */
  var RETRY_FLOOR = 500;
  var RETRY_SPREAD = 2500;
  var EXPECTED_BACK = 30000;
  var LONG_OUTAGE = 300000;
  var OUTAGE_FLOOR = 1000;
  var OUTAGE_SPREAD = 3000;

  function reconnectDelay(attempt, downFor, random) {
    if (downFor < EXPECTED_BACK) return (attempt === 0 ? 0 : RETRY_FLOOR) + random() * RETRY_SPREAD;
    if (downFor < LONG_OUTAGE) return OUTAGE_FLOOR + random() * OUTAGE_SPREAD;
    return BACKOFF_MAX / 2 + random() * (BACKOFF_MAX / 2);
  }

  /* Commands. The server answers within its deadline (5 s by default); a page that hears nothing
   * by COMMAND_TIMEOUT sends the command again, with the same key, after each of RETRY_AFTER. */
  var COMMAND_TIMEOUT = 8000;
  var RETRY_AFTER = [1000, 2000, 4000];

  /* 128 random bits as hex: getRandomValues works on plain-HTTP pages too (randomUUID does not). */
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  /* Runs attempt() until it succeeds or fails for good; an "unavailable" (not applied) or an
   * "unknown_outcome" (maybe applied) is tried again, which the key makes safe. Once any try's
   * outcome was unknown, so is the command's, whatever the later tries said. */
  function withRetries(attempt, quiet) {
    var tries = 0;
    var unknown = false;
    function run() {
      return attempt().catch(function (error) {
        var code = error && error.code;
        if (code === "unknown_outcome") unknown = true;
        if ((code !== "unknown_outcome" && code !== "unavailable") || tries >= RETRY_AFTER.length) {
          if (unknown && code === "unavailable") throw { code: "unknown_outcome", message: error.message };
          throw error;
        }
        var wait = RETRY_AFTER[tries++] * (0.75 + Math.random() * 0.5);
        if (tries === 1 && !quiet) notice(t("No answer from the server yet: trying again…"));
        return new Promise(function (resolve) { setTimeout(resolve, wait); }).then(run);
      });
    }
    return run();
  }

  function LiveRoom(room, role, handlers, options) {
    this.room = room;
    this.role = role || "viewer";
    this.handlers = handlers || {};
    this.options = options || {};
    this.epoch = null;
    this.offset = null;
    this.socket = null;
    this.status = null;
    this.pending = {};
    this.nextRef = 1;
    this.attempts = 0; // reconnect attempts since the connection was last live
    this.droppedAt = null;
    this.connected = false;
    this.everConnected = false;
    this.lastHeard = Date.now();
    this.lastPing = Date.now();
    this.retryTimer = null;
    var self = this;
    this.pinger = setInterval(function () { self.keepAlive(); }, 5000);
    window.addEventListener("online", function () { self.reconnectSoon(0); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && !self.connected) self.reconnectSoon(0);
    });
    this.connect();
  }

  LiveRoom.prototype.url = function () {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + location.host + "/ws/rooms/" + encodeURIComponent(this.room) + "?as=" + encodeURIComponent(this.role);
    if (this.epoch !== null && this.offset !== null) {
      url += "&epoch=" + encodeURIComponent(this.epoch) + "&offset=" + encodeURIComponent(String(this.offset));
    }
    return url;
  };

  LiveRoom.prototype.setStatus = function (status) {
    if (this.status === status) return;
    this.status = status;
    var pill = document.getElementById("live-status");
    if (pill) {
      var labels = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
      pill.textContent = t(labels[status]);
      pill.className = "status-pill status-" + status;
    }
    if (this.handlers.onStatus) this.handlers.onStatus(status);
  };

  LiveRoom.prototype.connect = function () {
    var self = this;
    this.retryTimer = null;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    var socket;
    try {
      socket = new WebSocket(this.url());
    } catch (e) {
      this.reconnectSoon();
      return;
    }
    this.socket = socket;
    this.lastHeard = Date.now();
    socket.onopen = function () {
      if (self.socket !== socket) return;
      self.lastHeard = self.lastPing = Date.now();
    };
    socket.onmessage = function (event) {
      if (self.socket !== socket) return;
      self.lastHeard = Date.now();
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (message && typeof message === "object") self.receive(message);
    };
    socket.onclose = function () {
      if (self.socket !== socket) return;
      self.dropped();
    };
    socket.onerror = function () { /* onclose follows */ };
  };

  LiveRoom.prototype.dropped = function () {
    this.socket = null;
    this.connected = false;
    var pending = this.pending;
    this.pending = {};
    Object.keys(pending).forEach(function (ref) { // sent, but no answer: it may have been applied
      pending[ref].reject({ code: "unknown_outcome", message: "the connection was lost" });
    });
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    this.reconnectSoon();
  };

  LiveRoom.prototype.reconnectSoon = function (delay) {
    if (this.socket) {
      if (delay === 0 && !this.connected) this.socket.close();
      return;
    }
    if (this.retryTimer !== null) {
      if (delay !== 0) return;
      clearTimeout(this.retryTimer);
    }
    var self = this;
    if (this.droppedAt === null) this.droppedAt = Date.now();
    var wait = delay === undefined ? reconnectDelay(this.attempts++, Date.now() - this.droppedAt, Math.random) : delay;
    this.retryTimer = setTimeout(function () { self.connect(); }, wait);
    // the page can say how it is going: which try comes next, and when
    if (this.handlers.onRetry) this.handlers.onRetry({ attempt: Math.max(1, this.attempts), wait: wait });
  };

  LiveRoom.prototype.keepAlive = function () {
    var socket = this.socket;
    if (!socket) return;
    var now = Date.now();
    var stuck = socket.readyState === WebSocket.CONNECTING && now - this.lastHeard > CONNECT_LIMIT;
    if (stuck || (socket.readyState === WebSocket.OPEN && now - this.lastHeard > SILENCE_LIMIT)) {
      this.socket = null; // silent for too long: the network dropped it without telling us
      try { socket.close(); } catch (e) { /* already closing */ }
      this.dropped();
      return;
    }
    if (socket.readyState === WebSocket.OPEN && now - this.lastPing >= PING_EVERY) {
      this.lastPing = now;
      this.send({ type: "ping", ref: "ping-" + this.nextRef++ });
    }
  };

  LiveRoom.prototype.send = function (message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  };

  LiveRoom.prototype.remember = function (message) {
    if (typeof message.epoch !== "string" || typeof message.offset !== "number") return;
    if (message.type === "snapshot" || message.epoch !== this.epoch || this.offset === null) {
      this.epoch = message.epoch;
      this.offset = message.offset;
    } else if (message.offset > this.offset) {
      this.offset = message.offset;
    }
  };

  LiveRoom.prototype.receive = function (message) {
    var type = message.type;
    if (type === "resync") {
      var socket = this.socket; // the server closes after this; reconnect from where we are
      if (socket) { this.socket = null; try { socket.close(); } catch (e) { /* closing */ } this.dropped(); }
      return;
    }
    if (type === "reload") {
      this.epoch = null;
      this.offset = null;
      if (!this.options.quiet) notice(t("The page was out of date and has been reloaded."));
      return;
    }
    this.remember(message);
    if (type === "snapshot") {
      this.markLive();
      if (this.handlers.onSnapshot) this.handlers.onSnapshot(message);
      return;
    }
    if (type === "ack" || (type === "error" && message.ref !== null && message.ref !== undefined && this.pending[message.ref])) {
      var waiting = this.pending[message.ref];
      if (waiting) {
        delete this.pending[message.ref];
        if (type === "ack") waiting.resolve(message.result || {});
        else waiting.reject({ code: message.code, message: message.message, retry_after: message.retry_after, reason: message.reason, params: message.params });
      }
      return;
    }
    if (type === "pong") return;
    if (type === "question" || type === "question_removed" || type === "settings" || type === "poll" ||
        type === "poll_removed" || type === "counters" || type === "poll_answer" || type === "my_question" || type === "presenter_note") {
      this.markLive(); // events after a resume: the connection is up to date
    }
    if (this.handlers.onMessage) this.handlers.onMessage(message);
  };

  LiveRoom.prototype.markLive = function () {
    this.connected = true;
    this.everConnected = true;
    this.attempts = 0;
    this.droppedAt = null;
    this.setStatus("live");
  };

  LiveRoom.prototype.command = function (command) {
    var self = this;
    var key = newKey();
    return withRetries(function () { return self.sendCommand(command, key); }, this.options.quiet);
  };

  /* One try of a command on the stream: not sent (not connected) is "unavailable"; sent with no
   * answer by COMMAND_TIMEOUT, or on a connection that dropped, is "unknown_outcome". */
  LiveRoom.prototype.sendCommand = function (command, key) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var ref = "r" + self.nextRef++;
      if (!self.connected || !self.send({ type: "command", ref: ref, idempotency_key: key, command: command })) {
        reject({ code: "unavailable", message: "not connected" });
        return;
      }
      var timer = setTimeout(function () {
        if (!self.pending[ref]) return;
        delete self.pending[ref];
        reject({ code: "unknown_outcome", message: "no answer in time" });
      }, COMMAND_TIMEOUT);
      self.pending[ref] = {
        resolve: function (result) { clearTimeout(timer); resolve(result); },
        reject: function (error) { clearTimeout(timer); reject(error); },
      };
    });
  };

  /* A command over HTTP (POST /api/rooms/{room}/commands): it reads the session cookie as it is
   * now, so it sees a display name set after the live stream connected. Same result as an ack.
   * Sent with an Idempotency-Key, and again with the same key when no answer comes. */
  function postCommand(room, command, options) {
    var key = newKey();
    return withRetries(function () { return postOnce(room, command, key); }, options && options.quiet);
  }

  function postOnce(room, command, key) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, COMMAND_TIMEOUT);
    return fetch("/api/rooms/" + encodeURIComponent(room) + "/commands", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      credentials: "same-origin",
      body: JSON.stringify(command),
      signal: controller.signal,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        clearTimeout(timer);
        if (response.ok) return body;
        var error = (body && body.error) || {};
        // a 5xx without the API's own error (a proxy's 502, say): whether it was applied is unknown
        throw { code: error.code || (response.status >= 500 ? "unknown_outcome" : "invalid"), message: error.message || "", retry_after: error.retry_after, reason: error.reason, params: error.params };
      });
    }, function () {
      // No answer: timed out, or the connection dropped (possibly after the server read it).
      clearTimeout(timer);
      throw { code: "unknown_outcome", message: "no answer from the server" };
    });
  }

  /* A count in words, "{n} ballots" for n: the catalogue's plural forms by CLDR category
   * (live/web/i18n.py PLURAL_SCRIPT_MESSAGES), chosen with the browser's Intl.PluralRules; in
   * another language than the page's where a screen shows both. */
  function plural(key, n, language) {
    var table = language ? messagesFor[language] || messages : messages;
    var forms = table[key] || messages[key];
    var text = key;
    if (forms && typeof forms === "object") {
      var category = new Intl.PluralRules(language || document.documentElement.lang || "en").select(n);
      text = forms[category] || forms.other || key;
    }
    return text.replace("{n}", String(n));
  }

  /* "1 ballot" / "12 ballots" / "12 票". */
  function ballots(n, language) {
    return plural("{n} ballots", n, language);
  }

  /* Small shared helpers for the pages. */
  function sortQuestions(list, order) {
    return list.slice().sort(function (a, b) {
      if (order === "recent") return b.asked_at - a.asked_at;
      return (b.votes - a.votes) || (a.asked_at - b.asked_at);
    });
  }

  function timeOf(seconds) {
    if (!seconds) return "";
    var date = new Date(seconds * 1000);
    return String(date.getHours()).padStart(2, "0") + ":" + String(date.getMinutes()).padStart(2, "0");
  }

  /* -- poll results, shared by the viewer page, the console and the screens ----------------------
   * Every function takes opts: {big: screen sizes, say: key -> text or node (bilingual screens),
   * into: the node drawn last time (bars are updated in place so they animate)}. */
  function sayOf(opts) {
    return (opts && opts.say) || t;
  }

  function entriesOf(tally) {
    return Object.keys(tally || {}).map(function (w) { return [w, tally[w]]; })
      .sort(function (a, b) { return (b[1] - a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0); });
  }

  /* Bars for a poll's tally: one row per option (or per word), sorted as the poll defines. */
  function tallyBars(poll, tally, options) {
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
  function wordCloud(tally, options) {
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
  function average(tally) {
    var n = 0;
    var sum = 0;
    Object.keys(tally || {}).forEach(function (k) { n += tally[k]; sum += Number(k) * tally[k]; });
    return n ? sum / n : null;
  }

  function stars(value) {
    var full = Math.round(value || 0);
    return "★★★★★".slice(0, full) + "☆☆☆☆☆".slice(0, 5 - full);
  }

  function ratingSummary(poll, tally, options) {
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
  function answerWall(tally, options) {
    var wall = el("ul", { class: "answer-wall" + (options && options.big ? " answer-wall-big" : "") });
    entriesOf(tally).forEach(function (entry, index) {
      wall.appendChild(el("li", { class: "answer-card answer-" + (index % 5), dir: "auto" },
        el("span", { class: "answer-text", text: entry[0] }),
        entry[1] > 1 ? el("span", { class: "answer-count", text: "×" + entry[1] }) : null));
    });
    return wall;
  }

  /* A quiz's fastest correct answers. */
  function leaderboard(leaders, options) {
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
  function pollResults(poll, tally, options) {
    options = options || {};
    if (poll.kind === "word_cloud") return wordCloud(tally, options);
    if (poll.kind === "open_text") return answerWall(tally, options);
    if (poll.kind === "rating") return ratingSummary(poll, tally, options);
    if (poll.kind === "ranking" && window.Ranking) return window.Ranking.results(poll, tally, options); // ranking.js
    return tallyBars(poll, tally, options);
  }

  // The room as a page holds it, and the one way every page applies a stream message to it.
  function roomFromSnapshot(message) {
    var state = { settings: message.room.settings || {}, questions: new Map(), polls: new Map() };
    state.presenterNote = message.room.presenter_note || null; // presenter and moderator audiences only
    (message.room.questions || []).forEach(function (q) { state.questions.set(q.id, q); });
    ((message.mine && message.mine.pending) || []).forEach(function (q) { state.questions.set(q.id, q); }); // a viewer's own
    (message.room.polls || []).forEach(function (p) { state.polls.set(p.id, p); });
    return state;
  }

  function merge(map, id, values) {
    var item = map.get(id);
    if (item) map.set(id, Object.assign({}, item, values));
  }

  /** Apply one stream message to a room state; false if the message is not about the room. */
  function applyRoomMessage(state, message) {
    switch (message.type) {
      case "question": state.questions.set(message.question.id, message.question); return true;
      case "question_removed": state.questions.delete(message.question_id); return true;
      case "settings": state.settings = message.settings; return true;
      case "poll": state.polls.set(message.poll.id, message.poll); return true;
      case "poll_removed": state.polls.delete(message.poll_id); return true;
      case "presenter_note": state.presenterNote = message.note || null; return true;
      case "poll_answer": {
        var poll = state.polls.get(message.poll_id);
        if (!poll || !message.answer) return true;
        var answers = (poll.answers || []).slice();
        var answer = message.answer;
        var at = answers.findIndex(function (a) { return a.participant_id === answer.participant_id; });
        if (at >= 0) answers[at] = Object.assign({}, answers[at], answer);
        else answers.push(answer);
        var update = { answers: answers };
        if (message.tally) update.tally = message.tally;
        if (typeof message.ballots === "number") update.ballots = message.ballots;
        state.polls.set(poll.id, Object.assign({}, poll, update));
        return true;
      }
      case "my_question":
        // only the asker hears this: their unpublished question was edited, dismissed, merged or moved
        state.questions.set(message.question.id, Object.assign({}, message.question, {
          my_action: message.action,
          moved_to: message.moved_to || message.question.moved_to,
        }));
        return true;
      case "counters":
        Object.keys(message.votes || {}).forEach(function (id) { merge(state.questions, id, { votes: message.votes[id] }); });
        Object.keys(message.polls || {}).forEach(function (id) { merge(state.polls, id, message.polls[id]); });
        return true;
      default: return false;
    }
  }

  /* A page's live room: the stream's snapshot and room messages are kept in state (its settings,
   * questions, polls and presenter note; the page's own fields stay), then changed() redraws.
   * handlers.onSnapshot and onMessage see each message first, before state changes. */
  function followRoom(room, role, state, handlers, options) {
    return new LiveRoom(room, role, Object.assign({}, handlers, {
      onSnapshot: function (message) {
        if (handlers.onSnapshot) handlers.onSnapshot(message);
        Object.assign(state, roomFromSnapshot(message));
        handlers.changed();
      },
      onMessage: function (message) {
        if (handlers.onMessage) handlers.onMessage(message);
        if (applyRoomMessage(state, message)) handlers.changed();
      },
    }), options);
  }

  /* Tabs (role="tablist"): arrow keys move between them and choose the one reached, Home and End
   * go to the ends; only the chosen tab is in the Tab order (WAI-ARIA's tabs pattern). Every page's
   * tabs, whatever script draws them: the page's own click handler does the choosing. */
  function tabsOf(node) {
    var tablist = node && node.closest ? node.closest('[role="tablist"]') : null;
    return tablist ? Array.prototype.slice.call(tablist.querySelectorAll('[role="tab"]')) : [];
  }
  function rove(tabs, chosen) {
    tabs.forEach(function (tab) { tab.setAttribute("tabindex", tab === chosen ? "0" : "-1"); });
  }
  function setUpTabs() {
    document.querySelectorAll('[role="tablist"]').forEach(function (tablist) {
      var tabs = tabsOf(tablist.querySelector('[role="tab"]'));
      rove(tabs, tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0] || tabs[0]);
    });
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    if (tab) rove(tabsOf(tab), tab);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    var tabs = tabsOf(tab);
    if (!tab || !tabs.length) return;
    var at = tabs.indexOf(tab);
    var vertical = tab.closest('[role="tablist"]').getAttribute("aria-orientation") === "vertical";
    var next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    if (vertical) next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in next)) return;
    event.preventDefault();
    var target = tabs[(next[event.key] + tabs.length) % tabs.length];
    target.focus();
    target.click();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpTabs);
  else setUpTabs();

  window.Live = {
    roomFromSnapshot: roomFromSnapshot,
    applyRoomMessage: applyRoomMessage,
    followRoom: followRoom,
    fill: fill,
    LiveRoom: LiveRoom,
    reconnectDelay: reconnectDelay,
    t: t,
    tIn: tIn,
    el: el,
    notice: notice,
    confirmDialog: confirmDialog,
    errorText: errorText,
    scheduler: scheduler,
    sortQuestions: sortQuestions,
    timeOf: timeOf,
    tallyBars: tallyBars,
    wordCloud: wordCloud,
    ratingSummary: ratingSummary,
    answerWall: answerWall,
    leaderboard: leaderboard,
    pollResults: pollResults,
    average: average,
    stars: stars,
    readJSON: readJSON,
    postCommand: postCommand,
    ballots: ballots,
    plural: plural,
  };
})();
