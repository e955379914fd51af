"""The one error a server raises when it does not come up."""

from __future__ import annotations

from pathlib import Path


class ServerStartError(RuntimeError):
    """A server did not start; the message names it, says why, and quotes its log."""

    def __init__(self, server: str, reason: str, log: Path | None = None) -> None:
        message = f"{server} did not start: {reason}"
        if log is not None:
            message += f"\n--- last lines of {log} ---\n{log_tail(log)}"
        super().__init__(message)
        self.server = server
        self.reason = reason
        self.log = log


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(no log: {error.strerror})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"
