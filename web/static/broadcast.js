/* broadcast.js: the venue's browser publisher: pick a camera and microphone, preview, go live
 * over WHIP (RFC 9725) with this session's publisher login, stop. */
import { scriptData } from "./lib/dom.js";
import { t } from "./lib/i18n.js";
import * as videoRequests from "./lib/video_requests.js";

var room = scriptData(import.meta.url).room;
var STATE_LABELS = { idle: "Not live", connecting: "Connecting…", live: "On air", failed: "Connection lost" };
var preview = document.getElementById("broadcast-preview");
var cameraSelect = document.getElementById("broadcast-camera");
var microphoneSelect = document.getElementById("broadcast-microphone");
var startButton = document.getElementById("broadcast-start");
var stopButton = document.getElementById("broadcast-stop");
var statusPill = document.getElementById("broadcast-status");
var feedback = document.getElementById("broadcast-feedback");

var stream = null; // the preview's camera and microphone
var pc = null;
var resource = null; // the WHIP session's URL, for DELETE

function setState(state) {
  statusPill.dataset.state = state;
  statusPill.textContent = t(STATE_LABELS[state] || state);
  statusPill.className = "status-pill status-" + (state === "live" ? "live" : state === "failed" ? "reconnecting" : "connecting");
  startButton.disabled = !stream || state === "connecting" || state === "live";
  stopButton.disabled = !(state === "connecting" || state === "live");
  cameraSelect.disabled = microphoneSelect.disabled = state === "connecting" || state === "live";
}

function fill(select, devices, current) {
  select.textContent = "";
  devices.forEach(function (device, index) {
    var option = document.createElement("option");
    option.value = device.deviceId;
    option.textContent = device.label || device.kind + " " + (index + 1);
    option.selected = device.deviceId === current;
    select.appendChild(option);
  });
}

async function openDevices() {
  var video = cameraSelect.value ? { deviceId: { exact: cameraSelect.value } } : {};
  var audio = microphoneSelect.value ? { deviceId: { exact: microphoneSelect.value } } : true;
  video.width = { ideal: 1280 };
  video.height = { ideal: 720 };
  video.frameRate = { ideal: 30 };
  if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: video, audio: audio });
  } catch (error) {
    feedback.textContent = t("No camera or microphone is available, or the browser was not allowed to use them.");
    setState("idle");
    return;
  }
  feedback.textContent = "";
  preview.srcObject = stream;
  var devices = await navigator.mediaDevices.enumerateDevices();
  var videoTrack = stream.getVideoTracks()[0];
  var audioTrack = stream.getAudioTracks()[0];
  fill(cameraSelect, devices.filter(function (d) { return d.kind === "videoinput"; }),
    videoTrack ? videoTrack.getSettings().deviceId : "");
  fill(microphoneSelect, devices.filter(function (d) { return d.kind === "audioinput"; }),
    audioTrack ? audioTrack.getSettings().deviceId : "");
  setState("idle");
}

function preferH264(transceiver) {
  // The server forwards what it receives; H.264 decodes in hardware on most viewers' phones.
  if (!RTCRtpSender.getCapabilities || !transceiver.setCodecPreferences) return;
  var codecs = RTCRtpSender.getCapabilities("video").codecs;
  var h264 = codecs.filter(function (c) {
    return c.mimeType === "video/H264" && /packetization-mode=1/.test(c.sdpFmtpLine || "") &&
      /profile-level-id=42e01f/i.test(c.sdpFmtpLine || "");
  });
  var rest = codecs.filter(function (c) { return h264.indexOf(c) === -1; });
  if (h264.length) transceiver.setCodecPreferences(h264.concat(rest));
}

async function goLive() {
  if (!stream) return;
  setState("connecting");
  feedback.textContent = "";
  pc = new RTCPeerConnection();
  var connection = pc;
  stream.getTracks().forEach(function (track) {
    var transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    if (track.kind === "video") {
      preferH264(transceiver);
      var parameters = transceiver.sender.getParameters();
      parameters.encodings = parameters.encodings && parameters.encodings.length ? parameters.encodings : [{}];
      parameters.encodings[0].maxBitrate = 1500000;
      transceiver.sender.setParameters(parameters).catch(function () { /* before negotiation: ignored */ });
    }
  });
  pc.onconnectionstatechange = function () {
    if (pc !== connection) return;
    var state = connection.connectionState;
    if (state === "connected") setState("live");
    else if (state === "failed" || state === "closed") { stop(false); setState("failed"); }
  };
  try {
    resource = await videoRequests.offer(pc, "/api/rooms/" + encodeURIComponent(room) + "/whip");
  } catch (error) {
    feedback.textContent = t("The server refused the stream:") + " " + error.message;
    stop(false);
    setState("failed");
  }
}

function stop(tellServer) {
  videoRequests.hangUp(tellServer === false ? null : resource, pc);
  pc = null;
  resource = null;
}

startButton.addEventListener("click", goLive);
stopButton.addEventListener("click", function () { stop(true); setState("idle"); });
cameraSelect.addEventListener("change", openDevices);
microphoneSelect.addEventListener("change", openDevices);
window.addEventListener("pagehide", function () { stop(true); });
setState("idle");
openDevices();
