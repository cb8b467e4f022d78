"""Why a command was refused. Every refusal has a stable code the pages translate, and those a
person can meet on the pages a reason they translate too (live/domain/reasons.py)."""

from __future__ import annotations

from .reasons import TEMPLATES


class CommandRefused(Exception):
    code = "refused"

    def __init__(self, message: str, **params: object) -> None:
        self.reason = message  # the template, when it is one of reasons.TEMPLATES
        self.params = params
        self.message = message.format(**params) if params else message
        super().__init__(self.message)

    @property
    def detail(self) -> dict[str, object]:
        """Fields a client can act on, sent beside the code and message: a known reason's
        template and values, which the pages translate."""
        if self.reason in TEMPLATES:
            return {"reason": self.reason, "params": self.params}
        return {}


class NotAllowed(CommandRefused):
    """The actor's role does not permit the command."""

    code = "forbidden"


class NotFound(CommandRefused):
    code = "not_found"


class InvalidInput(CommandRefused):
    code = "invalid"


class Conflict(CommandRefused):
    """The command no longer fits the current state, e.g. another moderator acted first."""

    code = "conflict"


class RateLimited(CommandRefused):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many at once: try again in {retry_after} s")
        self.retry_after = retry_after  # whole seconds until the participant may try again

    @property
    def detail(self) -> dict[str, object]:
        return {**super().detail, "retry_after": self.retry_after}


class NoIdentity(CommandRefused):
    """The session has no participant id yet: each such request would count as a new person."""

    code = "no_identity"
