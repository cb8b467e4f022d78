/* replay.js: a session's replay page. The video is the session's HLS VOD playlist (hls_source.js);
 * beside it, the session's moments in order (each question highlighted or answered, each poll
 * when it opened with its final result), each a link to its place in the video: clicking one
 * seeks there, the one playing is marked, and ?t=SECONDS (the links' own address) starts there.
 * The server places every moment (live/web/replay.py), gaps in the recording included.
 */
import { t } from "./lib/i18n.js";
import * as liveHls from "./lib/hls_source.js";

var data = JSON.parse(document.getElementById("replay-data").textContent);
var video = document.getElementById("replay-player");
var list = document.getElementById("moments");
var items = [];

function clock(seconds) {
  var whole = Math.floor(seconds);
  var h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
  var two = function (n) { return (n < 10 ? "0" : "") + n; };
  return (h ? h + ":" + two(m) : String(m)) + ":" + two(s);
}

function link(at) {
  var url = new URL(window.location.href);
  url.searchParams.set("t", String(Math.floor(at)));
  return url.pathname + url.search;
}

function seek(at) {
  video.currentTime = at;
  video.play().catch(function () { /* autoplay refused: the viewer's tap on the video plays it */ });
}

function pollResult(poll) {
  if (!poll.tally) return t("Results not shown");
  return Object.keys(poll.tally).map(function (option) { return option + ": " + poll.tally[option]; }).join(" · ");
}

function render() {
  data.moments.forEach(function (moment) {
    var item = document.createElement("li");
    item.className = "replay-moment";
    var anchor = document.createElement("a");
    anchor.href = link(moment.at);
    anchor.className = "replay-moment-link";
    anchor.dataset.at = String(moment.at);
    var time = document.createElement("span");
    time.className = "replay-moment-time";
    time.textContent = clock(moment.at);
    var kind = document.createElement("span");
    kind.className = "replay-moment-kind muted small";
    kind.textContent = moment.kind === "poll" ? t("Poll") : t("Question");
    var text = document.createElement("span");
    text.className = "replay-moment-text";
    text.textContent = moment.kind === "poll" ? moment.poll.question : moment.question.text;
    anchor.append(time, " ", kind, " ", text);
    item.appendChild(anchor);
    if (moment.kind === "poll") {
      var result = document.createElement("p");
      result.className = "replay-moment-result muted small";
      result.textContent = pollResult(moment.poll);
      item.appendChild(result);
    } else if (moment.question.reply) {
      var reply = document.createElement("p");
      reply.className = "replay-moment-result muted small";
      reply.textContent = moment.question.reply;
      item.appendChild(reply);
    }
    anchor.addEventListener("click", function (event) {
      event.preventDefault();
      window.history.replaceState(null, "", anchor.href);
      seek(moment.at);
    });
    list.appendChild(item);
    items.push({ at: moment.at, element: item });
  });
  document.getElementById("moments-empty").hidden = data.moments.length > 0;
}

function markCurrent() {
  var now = video.currentTime;
  var current = null;
  items.forEach(function (entry) { if (entry.at <= now + 0.25) current = entry; });
  items.forEach(function (entry) {
    var on = entry === current;
    entry.element.classList.toggle("replay-moment-current", on);
    if (on) entry.element.setAttribute("aria-current", "true"); else entry.element.removeAttribute("aria-current");
  });
}

render();
var start = parseFloat(new URLSearchParams(window.location.search).get("t") || "0");
if (liveHls.supported(video)) {
  liveHls.attach(video, data.playlist, { startPosition: start > 0 ? start : -1 });
  if (start > 0) {
    video.addEventListener("loadedmetadata", function once() {
      video.removeEventListener("loadedmetadata", once);
      if (Math.abs(video.currentTime - start) > 1) video.currentTime = start; // native HLS
    });
  }
}
video.addEventListener("timeupdate", markCurrent);
video.addEventListener("seeked", markCurrent);
