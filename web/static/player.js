/* player.js: the room's live video on the viewer page, over WebRTC (WHEP) when it can, over HLS
 * when it cannot.
 *
 * The room's event stream says whether the room is live ({"type": "video", "status": "live",
 * "stream": id} or "offline"); viewer.js passes those messages on as "live:video" events. A new
 * stream id (re)connects; "offline" tears the connection down and shows the offline card, never a
 * frozen frame. The video starts muted (browsers only autoplay muted video) until the viewer
 * unmutes it.
 *
 * Two modes, and the player picks (docs/VIDEO.md):
 * - "low latency": WebRTC from the process hosting the room's stream, about 0.1 s behind;
 * - "standard": HLS, a few seconds behind, through any HTTP cache, for everyone WebRTC cannot
 *   reach: a browser without RTCPeerConnection, ICE that does not connect within ICE_DEADLINE
 *   (UDP blocked on company and hotel networks), or a WHEP 503 (the process's WebRTC seats are
 *   full, or too many viewers are connecting): HLS at once, not after a timeout. Safari plays HLS
 *   natively; other browsers through hls.js (web/static/vendor/).
 * The viewer can switch; the choice is remembered on this device.
 */
import { scriptData } from "./lib/dom.js";
import { t } from "./lib/i18n.js";
import * as liveHls from "./lib/hls_source.js";
import * as videoRequests from "./lib/video_requests.js";

var room = scriptData(import.meta.url).room;
var section = document.getElementById("video");
var video = document.getElementById("video-player");
var offlineCard = document.getElementById("video-offline");
var statusLabel = document.getElementById("video-status");
var modeLabel = document.getElementById("video-mode");
var switchButton = document.getElementById("video-switch");
var unmute = document.getElementById("video-unmute");
var collapse = document.getElementById("video-collapse");
var STATE_LABELS = { offline: "Offline", connecting: "Connecting…", live: "On air" };
var base = "/api/rooms/" + encodeURIComponent(room);
var hlsUrl = base + "/hls/index.m3u8";

var ICE_DEADLINE = 4000; // ms for WebRTC to connect before the player falls back to HLS
var PREFERENCE_KEY = "live.video.mode";
var HIDDEN_KEY = "live.video.hidden"; // the viewer hid the picture, to read the questions on a phone
var canWebRTC = typeof window.RTCPeerConnection === "function";
var canHls = liveHls.supported(video);

var wanted = null; // the stream id the room says is live, or null when offline
var playing = null; // the stream id of the current connection
var mode = null; // "webrtc" or "hls" while connected or connecting
var pc = null;
var resource = null;
var hls = null;
var retryTimer = null;
var iceTimer = null;
var backoff = 1000;

function preference() {
  try { return localStorage.getItem(PREFERENCE_KEY) === "standard" ? "standard" : "auto"; } catch (e) { return "auto"; }
}

function remember(value) {
  try { localStorage.setItem(PREFERENCE_KEY, value); } catch (e) { /* private mode: this page only */ }
}

function pictureHidden() {
  try { return localStorage.getItem(HIDDEN_KEY) === "true"; } catch (e) { return false; }
}

/* The picture folds away (the sound goes on); offline, there is only a one-line note. */
function fold(hidden) {
  section.dataset.collapsed = hidden ? "true" : "false";
  collapse.setAttribute("aria-expanded", hidden ? "false" : "true");
  collapse.textContent = hidden ? t("Show video") : t("Hide video");
}

function show(state) {
  section.dataset.state = state; // "offline", "connecting", "live"
  section.dataset.mode = mode || "";
  statusLabel.textContent = t(STATE_LABELS[state]);
  var live = state === "live";
  video.style.display = live ? "block" : "none";
  offlineCard.style.display = live ? "none" : "grid";
  unmute.hidden = !live; // nothing to unmute while there is no video
  collapse.hidden = state === "offline";
  modeLabel.hidden = !live;
  modeLabel.textContent = mode === "hls" ? t("· standard") : t("· low latency");
  modeLabel.title = mode === "hls" ? t("Standard: a few seconds behind the room, on any network.") : t("Low latency: under a second behind the room.");
  // Switching needs both: WebRTC in this browser and an HLS player.
  switchButton.hidden = !live || !canWebRTC || !canHls;
  switchButton.textContent = mode === "hls" ? t("Use low-latency video") : t("Use standard video");
  switchButton.title = mode === "hls" ? t("Low latency: under a second behind the room.") : t("Standard: a few seconds behind the room, on any network.");
}

function clearTimers() {
  if (retryTimer !== null) { clearTimeout(retryTimer); retryTimer = null; }
  if (iceTimer !== null) { clearTimeout(iceTimer); iceTimer = null; }
}

function teardown() {
  clearTimers();
  var connection = pc;
  var session = resource;
  pc = null;
  resource = null;
  playing = null;
  mode = null;
  videoRequests.hangUp(session, connection);
  if (hls) { hls.destroy(); hls = null; }
  if (video.getAttribute("src")) { video.removeAttribute("src"); video.load(); }
  video.srcObject = null; // no frozen last frame
}

function retry(start) {
  if (retryTimer !== null || wanted === null) return;
  var wait = backoff * (0.75 + Math.random() * 0.5);
  backoff = Math.min(backoff * 2, 15000);
  retryTimer = setTimeout(function () { retryTimer = null; if (wanted !== null && !mode) start(); }, wait);
}

function start() {
  if (wanted === null) { teardown(); show("offline"); return; }
  if (canWebRTC && (preference() === "auto" || !canHls)) connectWebRTC();
  else if (canHls) playHls();
  else { teardown(); show("offline"); }
}

function fallBackToHls() {
  if (!canHls) return false;
  teardown();
  playHls();
  return true;
}

async function connectWebRTC() {
  teardown();
  mode = "webrtc";
  show("connecting");
  var stream = wanted;
  var connection = new RTCPeerConnection();
  pc = connection;
  playing = stream;
  connection.addTransceiver("video", { direction: "recvonly" });
  connection.addTransceiver("audio", { direction: "recvonly" });
  var media = new MediaStream();
  connection.ontrack = function (event) {
    media.addTrack(event.track);
    if (video.srcObject !== media) video.srcObject = media;
    video.play().catch(function () { /* autoplay refused: the viewer's first tap plays it */ });
  };
  connection.onconnectionstatechange = function () {
    if (pc !== connection) return;
    var state = connection.connectionState;
    if (state === "connected") { clearTimers(); backoff = 1000; show("live"); }
    else if (state === "failed" || state === "closed") {
      if (fallBackToHls()) return;
      teardown(); show(wanted ? "connecting" : "offline"); retry(start);
    }
  };
  // UDP blocked: ICE never connects. Do not make the viewer wait for ICE's own 30 s.
  iceTimer = setTimeout(function () {
    iceTimer = null;
    if (pc === connection && connection.connectionState !== "connected") fallBackToHls();
  }, ICE_DEADLINE);
  try {
    var session = await videoRequests.offer(connection, base + "/whep");
    if (pc === connection) resource = session;
  } catch (error) {
    if (pc !== connection) return;
    if (error.status === 503 && fallBackToHls()) return; // seats full or too many connecting
    teardown();
    show(wanted ? "connecting" : "offline");
    retry(start);
  }
}

// One segment behind the playlist's newest (1 s segments): 1.8-2.5 s glass to glass in
// Chromium with hls.js, against 2.4-2.8 s two segments behind (docs/CAPACITY.md, "HLS"). A player
// that stalls holds back one second more each time (hls.js's liveSyncOnStallIncrease), so a
// viewer on a jittery network settles further back by itself; one that falls behind catches up
// by playing faster.
// The playlist allows blocking reloads (CAN-BLOCK-RELOAD): hls.js asks for the next segment's
// playlist (_HLS_msn) at once in lowLatencyMode (its default), answered the moment it exists.
var LIVE_HLS = {
  lowLatencyMode: true,
  liveSyncDurationCount: 1,
  liveMaxLatencyDurationCount: 6,
  maxLiveSyncPlaybackRate: 1.25,
  manifestLoadingMaxRetry: 6,
  manifestLoadingRetryDelay: 500,
};

function playHls() {
  teardown();
  mode = "hls";
  playing = wanted;
  show("connecting");
  video.onplaying = function () { if (mode === "hls") { backoff = 1000; show("live"); } };
  // hls_source.js: natively (Safari) or through hls.js.
  var source = liveHls.attach(video, hlsUrl, LIVE_HLS, function () {
    if (hls !== source) return;
    // The playlist is not there yet (the packager starts at the next keyframe) or the network
    // dropped: start again shortly, while the room is live.
    teardown();
    show(wanted ? "connecting" : "offline");
    retry(playHls);
  });
  hls = source;
}

document.addEventListener("live:video", function (event) {
  var message = event.detail || {};
  if (message.status === "live") {
    wanted = message.stream || "live";
    if (playing !== wanted) { backoff = 1000; start(); }
  } else {
    wanted = null;
    teardown();
    show("offline");
  }
});

switchButton.addEventListener("click", function () {
  var toStandard = mode !== "hls";
  remember(toStandard ? "standard" : "auto");
  backoff = 1000;
  if (toStandard) playHls(); else connectWebRTC();
});

unmute.addEventListener("click", function () {
  video.muted = !video.muted;
  unmute.textContent = video.muted ? t("Unmute") : t("Mute");
  video.play().catch(function () {});
});
collapse.addEventListener("click", function () {
  var hidden = section.dataset.collapsed !== "true";
  try { localStorage.setItem(HIDDEN_KEY, hidden ? "true" : "false"); } catch (e) { /* this page only */ }
  fold(hidden);
});
fold(pictureHidden());
video.addEventListener("click", function () { video.play().catch(function () {}); });
window.addEventListener("pagehide", teardown);
show("offline");
