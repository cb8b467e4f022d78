/* player.js: the room's live video on the viewer page, over WHEP.
 *
 * The room's event stream says whether the room is live ({"type": "video", "status": "live",
 * "stream": id} or "offline"); viewer.js passes those messages on as "live:video" events. A new
 * stream id (re)connects; "offline" tears the connection down and shows the offline card, never a
 * frozen frame. A connection that fails is retried while the room is live. The video starts muted
 * (browsers only autoplay muted video) until the viewer unmutes it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var room = script.dataset.room;
  var section = document.getElementById("video");
  if (!section) return;
  var video = document.getElementById("video-player");
  var offlineCard = document.getElementById("video-offline");
  var statusLabel = document.getElementById("video-status");
  var unmute = document.getElementById("video-unmute");
  var labels = JSON.parse(document.getElementById("video-messages").textContent);

  var wanted = null; // the stream id the room says is live, or null when offline
  var playing = null; // the stream id of the current connection
  var pc = null;
  var resource = null;
  var retryTimer = null;
  var backoff = 1000;

  function show(state) {
    section.dataset.state = state; // "offline", "connecting", "live"
    statusLabel.textContent = labels[state];
    var live = state === "live";
    video.style.display = live ? "block" : "none";
    offlineCard.style.display = live ? "none" : "grid";
    unmute.hidden = !live; // nothing to unmute while there is no video
  }

  function teardown() {
    var connection = pc;
    pc = null;
    playing = null;
    if (connection) connection.close();
    if (resource) fetch(resource, { method: "DELETE", keepalive: true }).catch(function () {});
    resource = null;
    video.srcObject = null; // no frozen last frame
  }

  function retry() {
    if (retryTimer !== null || wanted === null) return;
    var wait = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, 15000);
    retryTimer = setTimeout(function () { retryTimer = null; if (wanted !== null && !pc) connect(); }, wait);
  }

  async function connect() {
    teardown();
    if (wanted === null) { show("offline"); return; }
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
      if (state === "connected") { backoff = 1000; show("live"); }
      else if (state === "failed" || state === "closed") { teardown(); show(wanted ? "connecting" : "offline"); retry(); }
    };
    try {
      await connection.setLocalDescription(await connection.createOffer());
      // fetch follows a 307 to the process that hosts the stream; Location is relative to it.
      var response = await fetch("/api/rooms/" + encodeURIComponent(room) + "/whep", {
        method: "POST", headers: { "Content-Type": "application/sdp" }, body: connection.localDescription.sdp,
      });
      if (pc !== connection) return;
      if (response.status !== 201) throw new Error("HTTP " + response.status);
      resource = new URL(response.headers.get("Location"), response.url).toString();
      await connection.setRemoteDescription({ type: "answer", sdp: await response.text() });
    } catch (error) {
      if (pc !== connection) return;
      teardown();
      show(wanted ? "connecting" : "offline");
      retry();
    }
  }

  document.addEventListener("live:video", function (event) {
    var message = event.detail || {};
    if (message.status === "live") {
      wanted = message.stream || "live";
      if (playing !== wanted) { backoff = 1000; connect(); }
    } else {
      wanted = null;
      teardown();
      show("offline");
    }
  });

  unmute.addEventListener("click", function () {
    video.muted = !video.muted;
    unmute.textContent = video.muted ? labels.unmute : labels.mute;
    video.play().catch(function () {});
  });
  video.addEventListener("click", function () { video.play().catch(function () {}); });
  window.addEventListener("pagehide", teardown);
  show("offline");
})();
