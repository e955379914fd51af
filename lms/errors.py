"""What a command tells the user when it stops: one line, and an exit status."""

from __future__ import annotations

from typing import Final

CONFIGURATION: Final = 2  # a setting, an argument or the machine must change first
FAILURE: Final = 1  # something the command started failed while it ran


class CommandError(Exception):
    """Printed as ``error: <message>``; the command exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = CONFIGURATION) -> None:
        super().__init__(message)
        self.exit_code = exit_code
