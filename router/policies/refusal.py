"""Why the caller may not read a selection: decided by the policies, answered by execution."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    """The error a refused selection is answered with (see router/policies/authorization)."""

    code: str
    message: str
