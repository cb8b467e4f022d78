/* lobby_screen.js: the foyer screen. Every room's invitation to join in turn, about ten seconds
 * each: the room's name, topic, sessions now and next, the QR code and the address. Runs
 * unattended: the sessions are fetched again every minute, and a failed fetch changes nothing. */
import { el, readJSON } from "./lib/dom.js";
import * as P from "./lib/screen_parts.js";

// ?every=N (seconds, 3 to 120) changes the pace; ten seconds a room by default
var asked = Number(new URLSearchParams(location.search).get("every"));
var ROTATE_EVERY = (asked >= 3 && asked <= 120 ? asked : 10) * 1000;
var rooms = readJSON("room-views");
if (!Array.isArray(rooms)) rooms = [];
var slide = document.getElementById("lobby-slide");
var dots = document.getElementById("lobby-dots");
var index = 0;

function qrFor(slug) {
  var holders = document.querySelectorAll("#lobby-qr-source [data-slug]");
  for (var i = 0; i < holders.length; i++) {
    if (holders[i].dataset.slug === slug) return holders[i].querySelector("svg");
  }
  return null;
}

function draw() {
  if (!rooms.length) return;
  var room = rooms[index % rooms.length];
  var say = new P.Say(room.screen_language || "both");
  slide.dataset.room = room.slug;
  slide.replaceChildren(P.joinScene(say, room, qrFor(room.slug), { withName: true }));
  // the longest rooms would run over the event's title and under the dots
  P.fitJoin(slide);
  dots.replaceChildren.apply(dots, rooms.map(function (r, i) {
    return el("span", { class: "lobby-dot" + (i === index % rooms.length ? " lobby-dot-on" : "") });
  }));
}

setInterval(function () {
  index = (index + 1) % Math.max(1, rooms.length);
  draw();
}, ROTATE_EVERY);

P.every("/api/event", 60, function (event) {
  var fresh = {};
  (event.rooms || []).forEach(function (room) { fresh[room.slug] = room; });
  rooms = rooms.map(function (room) {
    var update = fresh[room.slug];
    return update ? Object.assign({}, room, { now: update.now, next: update.next, topic: update.topic }) : room;
  });
});

draw();
