"""Everything the server sends to clients, in one place: every message of the live stream, its
close codes, the one JSON encoding, and the error shape of the HTTP API.

docs/API.md describes these messages; this module is where they are made. The domain decides
what an audience may see (``domain/projection.py`` builds the views); the functions here only
give those views their envelope, so a message's shape has exactly one home. It is a leaf: it
imports nothing from ``live``, so every layer may use it.
"""

from __future__ import annotations

import json
from typing import Any

Message = dict[str, Any]

# -- close codes of the live stream ---------------------------------------------------------------
CLOSE_RESYNC = 4008  # the client fell too far behind: reconnect and resume
CLOSE_INVALID = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_RATE_LIMITED = 4429  # the address has too many streams open, or opened too many just now
CLOSE_CODES = {
    "invalid": CLOSE_INVALID,
    "forbidden": CLOSE_FORBIDDEN,
    "not_found": CLOSE_NOT_FOUND,
    "rate_limited": CLOSE_RATE_LIMITED,
}

# -- HTTP status of each error code (the API's JSON errors) -----------------------------------
HTTP_STATUS = {
    "invalid": 400,
    "forbidden": 403,
    "no_identity": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,  # not applied, for certain: retry when you like
    "unknown_outcome": 504,  # may or may not have been applied: retry with the same Idempotency-Key
}


def encode(message: Message) -> str:
    """The one JSON encoding of everything sent: compact, and UTF-8 text as it is (no \\u escapes)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def error_body(code: str, message: str, **detail: object) -> Message:
    """An HTTP error's body: ``{"error": {"code", "message", ...detail}}``."""
    return {"error": {"code": code, "message": message, **detail}}


# -- the stream: messages about the room, made from the domain's views -----------------------------
def at(message: Message, epoch: str, offset: int) -> Message:
    """A room message with the position of the event it comes from."""
    return {**message, "epoch": epoch, "offset": offset}


def question(view: Message, action: str, by: str | None = None, *, moderator: bool = False) -> Message:
    message: Message = {"type": "question", "question": view, "action": action}
    if moderator:
        message["by"] = by
    return message


def question_removed(question_id: str) -> Message:
    return {"type": "question_removed", "question_id": question_id}


def my_question(view: Message, action: str, moved_to: str | None = None) -> Message:
    """What only the asker hears about their question while it is not public."""
    message: Message = {"type": "my_question", "question": view, "action": action}
    if moved_to:
        message["moved_to"] = moved_to
    return message


def my_quiz_rank(rank: Message) -> Message:
    """What only a quiz player hears when an answer is revealed: their place in the series."""
    return {"type": "my_quiz_rank", "rank": rank}


def settings(view: Message, action: str) -> Message:
    return {"type": "settings", "settings": view, "action": action}


def presenter_note(view: Message | None, by: str | None = None, *, moderator: bool = False) -> Message:
    """The moderators' private note to the speaker (``note`` null: cleared); moderators learn who sent it."""
    message: Message = {"type": "presenter_note", "note": view}
    if moderator:
        message["by"] = by
    return message


def poll(view: Message, action: str) -> Message:
    return {"type": "poll", "poll": view, "action": action}


def poll_removed(poll_id: str) -> Message:
    return {"type": "poll_removed", "poll_id": poll_id}


def poll_answer(poll_id: str, answer: Message, **counts: object) -> Message:
    """An open-text answer for moderators, with the poll's ``ballots`` or ``tally`` as it changed."""
    return {"type": "poll_answer", "poll_id": poll_id, "answer": answer, **counts}


def counters(epoch: str, offset: int, votes: Message, polls: Message) -> Message:
    """The newest value of each counter that changed (or of every counter, on resume)."""
    return {"type": "counters", "epoch": epoch, "offset": offset, "votes": votes, "polls": polls}


def snapshot_head(epoch: str, offset: int, room_text: str) -> str:
    """The start of ``snapshot`` up to its room view, which was encoded once and is shared by
    everyone joining at about the same time; ``snapshot_tail`` ends it per participant."""
    head = encode({"type": "snapshot", "epoch": epoch, "offset": offset})
    return f'{head[:-1]},"room":{room_text}'


def snapshot_tail(mine: Message) -> str:
    """The end of ``snapshot``: what is the participant's own, encoded per client."""
    return f',"mine":{encode(mine)}}}'


def reload(reason: str) -> Message:
    """The client's position cannot be resumed: a snapshot follows."""
    return {"type": "reload", "reason": reason}


RESYNC_TEXT = encode({"type": "resync", "reason": "too_far_behind"})


# -- the stream: answers to what a client sent ----------------------------------------------------
def error(code: str, message: str, ref: object = None, **detail: object) -> Message:
    return {"type": "error", "code": code, "message": message, "ref": ref, **detail}


def pong(ref: object) -> Message:
    return {"type": "pong", "ref": ref}


def ack(ref: object, result: Message) -> Message:
    return {"type": "ack", "ref": ref, "result": result}


# -- the stream: runtime status that is not domain state -------------------------------------------
def video_live(stream: str) -> Message:
    """The room's video is live; a new ``stream`` value tells players to reconnect."""
    return {"type": "video", "status": "live", "stream": stream}


def video_offline() -> Message:
    return {"type": "video", "status": "offline"}


def vote_alert(
    target: str, target_id: str, from_one_address: int, recent_votes: int, seconds: int, at: float
) -> Message:
    """For moderators: of a question's (``target`` "question") or poll's latest ``recent_votes``
    votes, ``from_one_address`` came from one client address within ``seconds`` (live/vote_watch.py)."""
    return {
        "type": "vote_alert",
        f"{target}_id": target_id,
        "from_one_address": from_one_address,
        "recent_votes": recent_votes,
        "seconds": seconds,
        "at": round(at, 3),
    }
