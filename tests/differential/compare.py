"""Normalised answers and their differences: data must be equal; errors compare by path."""

import json
from dataclasses import dataclass
from typing import Any

from tests.differential.harness import Answer


@dataclass(frozen=True)
class Normalised:
    status: int
    data: Any
    error_paths: tuple[str, ...]

    @property
    def failed_request(self) -> bool:
        return self.data is None and bool(self.error_paths)


def normalise(answer: Answer) -> Normalised:
    """Data, status and error paths. Apollo Gateway reports the errors of its own value
    completion (a null where the schema forbids it, a value of the wrong type) in
    `extensions.valueCompletion` instead of `errors`, where the router rightly puts them
    (`test_known_differences` holds the router to that): they count as errors here."""
    body = answer.body if isinstance(answer.body, dict) else {}
    extensions = body.get("extensions")
    if not isinstance(extensions, dict):
        extensions = {}
    errors = [*(body.get("errors") or []), *(extensions.get("valueCompletion") or [])]
    paths = sorted({_path(error) for error in errors if isinstance(error, dict)})
    return Normalised(answer.status, body.get("data"), tuple(paths))


def _path(error: dict[str, Any]) -> str:
    path = error.get("path")
    return ".".join(str(part) for part in path) if path else "<no path>"


def differences(ours: Answer, theirs: Answer) -> list[str]:
    """What differs between the router's answer and Apollo Gateway's, empty when alike."""
    a, b = normalise(ours), normalise(theirs)
    found = []
    if a.status != b.status:
        found.append(f"status {a.status} != {b.status}")
    if a.data != b.data:
        found.append("data differs")
    if a.error_paths != b.error_paths:
        found.append(f"error paths {list(a.error_paths)} != {list(b.error_paths)}")
    return found


def printout(
    world: str, seed: int, query: str, variables: Any, ours: Answer, theirs: Answer
) -> str:
    return "\n".join(
        [
            f"supergraph {world}, seed {seed}",
            query,
            f"variables: {json.dumps(variables)}",
            f"router ({ours.status}): {json.dumps(ours.body, sort_keys=True)}",
            f"apollo ({theirs.status}): {json.dumps(theirs.body, sort_keys=True)}",
        ]
    )
