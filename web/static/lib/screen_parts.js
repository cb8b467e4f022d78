/* screen_parts.js: what the room screen and the foyer screen share: text in the screen's
 * language(s) and the "join" scene. A screen set to "both" shows every label twice: the Chinese
 * line, then the English line under it, smaller. */
import { el } from "./dom.js";
import { t, tIn } from "./i18n.js";

function languagesOf(setting) {
  if (setting === "both") return ["zh-CN", "en"];
  return [setting === "en" ? "en" : "zh-CN"];
}

export function Say(setting) {
  this.languages = languagesOf(setting);
}

/* One text per language, stacked when there are two (and they differ). */
Say.prototype.lines = function (texts, inline) {
  var unique = texts.filter(function (text, i) { return text && texts.indexOf(text) === i; });
  if (unique.length <= 1) return el("span", { class: "mono", text: unique[0] || "" });
  var languages = this.languages;
  var node = el("span", { class: inline ? "bi bi-inline" : "bi" });
  unique.forEach(function (text, i) {
    node.appendChild(el("span", { class: "bi-" + (i + 1), lang: languages[i], dir: "auto", text: text }));
  });
  return node;
};

/* A translated label. */
Say.prototype.t = function (key, inline) {
  return this.lines(this.languages.map(function (language) { return tIn(language, key); }), inline);
};

/* A text per language, built by fn(language, t) where t(key) translates in that language. */
Say.prototype.each = function (fn, inline) {
  return this.lines(this.languages.map(function (language) {
    return fn(language, function (key) { return tIn(language, key); });
  }), inline);
};

/* A name from the event file: {zh, en}. */
Say.prototype.name = function (names, inline) {
  if (!names) return el("span", { class: "mono" });
  return this.lines(this.languages.map(function (language) {
    return (language === "en" ? names.en : names.zh) || names.en || names.zh || "";
  }), inline);
};

Say.prototype.bind = function () {
  var self = this;
  return function (key) { return self.t(key); };
};

function clock(iso) {
  return typeof iso === "string" ? iso.slice(11, 16) : "";
}

function sessionLine(say, labelKey, session, withDate) {
  var speakers = (session.speakers || []).map(function (s) { return s.name; });
  return el("div", { class: "screen-session" },
    el("p", { class: "screen-session-head" },
      el("span", { class: "screen-session-label" }, say.t(labelKey, true)),
      el("span", { class: "screen-session-time", text: (withDate ? session.start.slice(5, 10) + " " : "") + clock(session.start) + "–" + clock(session.end) })),
    el("p", { class: "screen-session-title" }, say.name(session.title)),
    speakers.length ? el("p", { class: "screen-session-speakers" }, say.each(function (language, t) {
      return speakers.map(function (n) { return (language === "en" ? n.en : n.zh) || n.en; }).join(t(", "));
    }, true)) : null);
}

export function nowNext(say, info) {
  var box = el("div", { class: "screen-now-next" });
  if (info.now) box.appendChild(sessionLine(say, "Now", info.now, false));
  if (info.next) box.appendChild(sessionLine(say, "Next", info.next, true));
  box.hidden = !info.now && !info.next;
  return box;
}

/* The invitation to join (on the foyer, with the room's name and hall): topic, now/next, the
 * call to scan, URL and room code, the QR code. */
export function joinScene(say, info, qr, options) {
  var text = el("div", { class: "join-text" });
  if (options && options.withName) {
    text.appendChild(el("h1", { class: "join-room" }, say.name(info.name)));
    // the foyer: where the room is, so people find their way there
    if (info.location) text.appendChild(el("p", { class: "join-location" }, say.name(info.location, true)));
  }
  // the foyer says what is on rather than the topic, which mostly repeats the room's name
  var named = options && options.withName;
  if (info.topic && !(named && info.now)) text.appendChild(el("p", { class: "join-topic" }, say.name(info.topic)));
  text.appendChild(nowNext(say, info));
  text.appendChild(el("p", { class: "join-call" }, say.t("Scan to ask questions and vote")));
  text.appendChild(el("p", { class: "join-url", text: info.url }));
  text.appendChild(el("p", { class: "join-code" },
    el("span", { class: "join-code-label" }, say.t("Room code", true)),
    el("span", { class: "join-code-value", text: info.slug })));
  var box = el("div", { class: "join-qr", role: "img", "aria-label": t("QR code for the room page") });
  if (qr) {
    var svg = qr.cloneNode(true);
    if (!svg.getAttribute("viewBox") && svg.getAttribute("width") && svg.getAttribute("height")) {
      svg.setAttribute("viewBox", "0 0 " + parseFloat(svg.getAttribute("width")) + " " + parseFloat(svg.getAttribute("height")));
    }
    box.appendChild(svg);
  }
  return el("div", { class: "join-layout" }, text, box);
}

/* Shrink a node's text until its box no longer overflows: a screen never scrolls. */
export function fit(node, box, sizes) {
  for (var i = 0; i < sizes.length; i++) {
    node.style.fontSize = sizes[i] + "px";
    if (box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1) return;
  }
}

/* The invitation's text shrinks until it fits beside the QR code (the longest rooms: a long
 * name, sessions now and next, a long room code); secondary lines keep their least size
 * (style.css --screen-secondary). Call it once the scene shows. */
export function fitJoin(scene) {
  fitBlock(scene.querySelector(".join-text"));
}

/* A block of text (its overflow hidden) shrinks as a whole, in steps, until all of it shows. */
export function fitBlock(block) {
  if (!block) return;
  block.style.fontSize = "";
  var base = parseFloat(getComputedStyle(block).fontSize) || 24;
  fit(block, block, [1, 0.92, 0.84, 0.76, 0.7, 0.64, 0.58, 0.52].map(function (f) { return base * f; }));
}

/* JSON from the server every so often; a failure just waits for the next try. */
export function every(url, seconds, onData) {
  function load() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) onData(data); })
      .catch(function () { /* a screen never shows errors */ });
  }
  setInterval(load, seconds * 1000);
  return load;
}
