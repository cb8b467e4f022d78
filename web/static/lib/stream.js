/* stream.js: the room's live stream, shared by every page.
 *
 * new LiveRoom(room, role, {onSnapshot, onMessage, onStatus})
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
import { notice } from "./dom.js";
import { t } from "./i18n.js";

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

export function reconnectDelay(attempt, downFor, random) {
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

export function LiveRoom(room, role, handlers, options) {
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
export function postCommand(room, command, options) {
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
