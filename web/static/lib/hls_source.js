/* hls_source.js: an HLS playlist into a <video>, through hls.js (web/static/vendor/) wherever
 * Media Source Extensions exist, else by the browser's own HLS player (iPhones). One home for the choice and for hls.js's settings
 * that the CSP needs (no worker: fMP4 segments need no transmuxing, and the CSP allows no blob:
 * workers). The live player (player.js, with its latency settings) and the replay page use it.
 * Playback starts as soon as it can (muted video autoplays; otherwise the viewer's tap).
 *
 *   var source = attach(video, url, {extra hls.js config}, onFatal);
 *   source.destroy();
 */

function nativeHls(video) {
  return !!video.canPlayType && video.canPlayType("application/vnd.apple.mpegurl") !== "";
}

export function supported(video) {
  return nativeHls(video) || !!(window.Hls && window.Hls.isSupported());
}

export function attach(video, url, config, onFatal) {
  var play = function () { video.play().catch(function () { /* autoplay refused: a tap plays it */ }); };
  // hls.js wherever Media Source Extensions exist, as hls.js advises; the browser's own player
  // only without them (iPhones). Chromium plays HLS natively too, but 1.7-2.5 s further behind
  // the live edge than hls.js tuned for it (bench/hls_bench.py delay, docs/CAPACITY.md).
  if (nativeHls(video) && !(window.Hls && window.Hls.isSupported())) {
    video.src = url;
    video.onerror = function () { if (onFatal) onFatal(); };
    play();
    return { destroy: function () { video.removeAttribute("src"); video.load(); } };
  }
  var options = { enableWorker: false };
  Object.keys(config || {}).forEach(function (key) { options[key] = config[key]; });
  var player = new window.Hls(options);
  player.on(window.Hls.Events.MANIFEST_PARSED, play);
  player.on(window.Hls.Events.ERROR, function (event, data) { if (data.fatal && onFatal) onFatal(data); });
  player.loadSource(url);
  player.attachMedia(video);
  return { destroy: function () { player.destroy(); } };
}
