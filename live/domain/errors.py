"""Why a command was refused. Every refusal has a stable code the pages translate."""

from __future__ import annotations


class CommandRefused(Exception):
    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def detail(self) -> dict[str, object]:
        """Fields a client can act on, sent beside the code and message."""
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
        return {"retry_after": self.retry_after}


class NoIdentity(CommandRefused):
    """The session has no participant id yet: each such request would count as a new person."""

    code = "no_identity"
