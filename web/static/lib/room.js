/* room.js: the room as a page holds it (settings, questions, polls, the presenter's note), built
 * from the stream's snapshot, and the one way every page applies a stream message to it. */
import { LiveRoom } from "./stream.js";

export function roomFromSnapshot(message) {
  var state = { settings: message.room.settings || {}, questions: new Map(), polls: new Map() };
  state.presenterNote = message.room.presenter_note || null; // presenter and moderator audiences only
  (message.room.questions || []).forEach(function (q) { state.questions.set(q.id, q); });
  ((message.mine && message.mine.pending) || []).forEach(function (q) { state.questions.set(q.id, q); }); // a viewer's own
  (message.room.polls || []).forEach(function (p) { state.polls.set(p.id, p); });
  return state;
}

function merge(map, id, values) {
  var item = map.get(id);
  if (item) map.set(id, Object.assign({}, item, values));
}

/** Apply one stream message to a room state; false if the message is not about the room. */
export function applyRoomMessage(state, message) {
  switch (message.type) {
    case "question": state.questions.set(message.question.id, message.question); return true;
    case "question_removed": state.questions.delete(message.question_id); return true;
    case "settings": state.settings = message.settings; return true;
    case "poll": state.polls.set(message.poll.id, message.poll); return true;
    case "poll_removed": state.polls.delete(message.poll_id); return true;
    case "presenter_note": state.presenterNote = message.note || null; return true;
    case "poll_answer": {
      var poll = state.polls.get(message.poll_id);
      if (!poll || !message.answer) return true;
      var answers = (poll.answers || []).slice();
      var answer = message.answer;
      var at = answers.findIndex(function (a) { return a.participant_id === answer.participant_id; });
      if (at >= 0) answers[at] = Object.assign({}, answers[at], answer);
      else answers.push(answer);
      var update = { answers: answers };
      if (message.tally) update.tally = message.tally;
      if (typeof message.ballots === "number") update.ballots = message.ballots;
      state.polls.set(poll.id, Object.assign({}, poll, update));
      return true;
    }
    case "my_question":
      // only the asker hears this: their unpublished question was edited, dismissed, merged or moved
      state.questions.set(message.question.id, Object.assign({}, message.question, {
        my_action: message.action,
        moved_to: message.moved_to || message.question.moved_to,
      }));
      return true;
    case "counters":
      Object.keys(message.votes || {}).forEach(function (id) { merge(state.questions, id, { votes: message.votes[id] }); });
      Object.keys(message.polls || {}).forEach(function (id) { merge(state.polls, id, message.polls[id]); });
      return true;
    default: return false;
  }
}

/* A page's live room: the stream's snapshot and room messages are kept in state (its settings,
 * questions, polls and presenter note; the page's own fields stay), then changed() redraws.
 * handlers.onSnapshot and onMessage see each message first, before state changes. */
export function followRoom(room, role, state, handlers, options) {
  return new LiveRoom(room, role, Object.assign({}, handlers, {
    onSnapshot: function (message) {
      if (handlers.onSnapshot) handlers.onSnapshot(message);
      Object.assign(state, roomFromSnapshot(message));
      handlers.changed();
    },
    onMessage: function (message) {
      if (handlers.onMessage) handlers.onMessage(message);
      if (applyRoomMessage(state, message)) handlers.changed();
    },
  }), options);
}

/* The questions in the order people read them: by votes (then oldest first), or newest first. */
export function sortQuestions(list, order) {
  return list.slice().sort(function (a, b) {
    if (order === "recent") return b.asked_at - a.asked_at;
    return (b.votes - a.votes) || (a.asked_at - b.asked_at);
  });
}
