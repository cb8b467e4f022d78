/* stamp_reader.js: installed in the viewer page by bench/hls_bench.py (Playwright's init script),
 * before the page's own scripts. Five times a second it draws the displayed video picture's top
 * strip onto a canvas, reads the wall-clock stamp bench/stamped_source.py painted there, and
 * records [Date.now(), age in ms or null, video.currentTime, player mode, player state]; it also
 * keeps the times of the video element's "waiting" events (the player ran out of media).
 * The strip: 16x16 blocks, white + black markers, 32 bits of ms since the epoch modulo 2^32,
 * 4 check bits (the sum of the value's nibbles modulo 16).
 * It also wraps the page's hls.js (window.Hls, once the vendored script defines it) so that each
 * player gets window.__hlsOptions (the bench's options, if any) on top of player.js's, and so that
 * hls.js's own view is sampled too: its latency estimate, its target latency, and how far the
 * playing position's EXT-X-PROGRAM-DATE-TIME (when the server received that frame) is behind. */
(function () {
  "use strict";
  var BLOCK = 16, BITS = 32, BLOCKS = BITS + 6, TWO_32 = 4294967296;
  var bench = { samples: [], waiting: [], unreadable: 0 };
  window.__stampBench = bench;
  var canvas = null, context = null;
  var player = null; // the page's newest hls.js player
  var wrapped;
  Object.defineProperty(window, "Hls", {
    configurable: true,
    get: function () { return wrapped; },
    set: function (Hls) {
      wrapped = class extends Hls {
        constructor(config) {
          super(Object.assign({}, config, window.__hlsOptions || {}));
          player = this;
        }
      };
    },
  });

  function readStamp(video) {
    if (!video.videoWidth || video.readyState < 2) return null;
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.width = BLOCK * BLOCKS;
      canvas.height = BLOCK;
      context = canvas.getContext("2d", { willReadFrequently: true });
    }
    var scale = video.videoWidth / 640; // the strip is drawn for 640 pixels wide
    context.drawImage(video, 0, 0, BLOCK * BLOCKS * scale, BLOCK * scale, 0, 0, BLOCK * BLOCKS, BLOCK);
    var row = context.getImageData(0, BLOCK / 2, BLOCK * BLOCKS, 1).data;
    var bits = [];
    for (var i = 0; i < BLOCKS; i++) bits.push(row[(i * BLOCK + BLOCK / 2) * 4 + 1] > 127 ? 1 : 0); // green ~ luma
    if (bits[0] !== 1 || bits[1] !== 0) return null;
    var value = 0, check = 0, nibbles = 0, nibble = 0;
    for (i = 0; i < BITS; i++) {
      value = value * 2 + bits[2 + i];
      nibble = nibble * 2 + bits[2 + i];
      if (i % 4 === 3) { nibbles += nibble; nibble = 0; }
    }
    for (i = 0; i < 4; i++) check = check * 2 + bits[2 + BITS + i];
    return nibbles % 16 === check ? value : null;
  }

  function sample() {
    var video = document.getElementById("video-player");
    var section = document.getElementById("video");
    if (!video || !section) return;
    var now = Date.now();
    var stamp = readStamp(video);
    if (stamp === null && video.videoWidth) bench.unreadable++;
    var age = stamp === null ? null : (((now % TWO_32) - stamp) % TWO_32 + TWO_32) % TWO_32;
    var hls = player && section.dataset.mode === "hls" ? player : null;
    var playing = hls && hls.playingDate ? now - hls.playingDate.getTime() : null;
    bench.samples.push([now, age, video.currentTime, section.dataset.mode || "", section.dataset.state || "",
      hls ? hls.latency : null, hls ? hls.targetLatency : null, playing]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var video = document.getElementById("video-player");
    if (video) video.addEventListener("waiting", function () { bench.waiting.push(Date.now()); });
    setInterval(sample, 200);
  });
})();
