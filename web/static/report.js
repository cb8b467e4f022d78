/* report.js: the engagement report's charts. The figures come with the page (#report-data, made
 * by live/report.py); this draws each room's viewers and questions over time with uPlot (vendored,
 * web/static/vendor/), at most 660 px wide so that a printed A4 page holds every chart, and sizes
 * the poll bars. Times are shown in the event's time zone, whatever the browser's. */
import { t } from "./lib/i18n.js";


var data = JSON.parse(document.getElementById("report-data").textContent);
var MAX_WIDTH = 660; // A4 less 12 mm margins is about 700 CSS px
var HEIGHT = 220;
var zone = data.timezone;
var language = document.documentElement.lang || "en";
var minutes = new Intl.DateTimeFormat(language, { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
var seconds = new Intl.DateTimeFormat(language, {
  timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

function timeAxis(u, splits) {
  var short = u.scales.x.max - u.scales.x.min < 600; // under ten minutes: the seconds tell ticks apart
  return splits.map(function (at) { return (short ? seconds : minutes).format(new Date(at * 1000)); });
}

function chartWidth(box) {
  return Math.max(280, Math.min(MAX_WIDTH, Math.floor(box.getBoundingClientRect().width) || MAX_WIDTH));
}

function options(box, series) {
  return {
    width: chartWidth(box),
    height: HEIGHT,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), zone); },
    scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
    legend: { live: false }, // the lines' names only: a printed page has no cursor
    axes: [
      { values: timeAxis, space: 90 }, // px between ticks: room for "20:58:15" and a gap
      { values: function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) ? String(v) : ""; }); } },
    ],
    series: [{ label: t("Time") }].concat(series),
  };
}

function line(name, colour, stepped) {
  var drawn = { label: t(name), stroke: colour, width: 2, points: { show: true, size: 5 } };
  if (stepped) drawn.paths = uPlot.paths.stepped({ align: 1 });
  return drawn;
}

var charts = {
  viewers: function (room) {
    var v = room.viewers;
    return {
      rows: [v.times, v.connections, v.webrtc, v.hls],
      series: [line("Page connections", "#0b6e79"), line("WebRTC viewers", "#c2410c"), line("HLS viewers", "#6d28d9")],
    };
  },
  questions: function (room) {
    var q = room.questions;
    return {
      rows: [q.times, q.asked, q.approved, q.answered],
      series: [line("Asked", "#0b6e79", true), line("Approved", "#15803d", true), line("Answered", "#c2410c", true)],
    };
  },
};

var rooms = {};
data.rooms.forEach(function (room) { rooms[room.room] = room; });

document.querySelectorAll("[data-chart]").forEach(function (box) {
  var room = rooms[box.dataset.room];
  var chart = charts[box.dataset.chart](room);
  if (!chart.rows[0].length) {
    box.hidden = true;
    box.parentNode.querySelector(".report-empty").hidden = false;
    return;
  }
  new uPlot(options(box, chart.series), chart.rows, box);
});

document.querySelectorAll(".report-bar-fill").forEach(function (bar) {
  bar.style.width = (Math.max(0, Math.min(1, Number(bar.dataset.share) || 0)) * 100).toFixed(1) + "%";
});

var print = document.getElementById("report-print");
if (print) print.addEventListener("click", function () { window.print(); });
