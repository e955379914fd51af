"""What hostile content costs where users write code-like input: notification templates
(administrators) and answer patterns (instructors).

The tests check that such input is refused or given up on; this measures how long that takes,
as a ratio against ordinary input in the same run:

1. Each runaway template of tests/unit/notifications/test_templates.py, checked and (when the
   static check lets it through) rendered until refused, against rendering an ordinary
   announcement template.
2. Grading a short answer against a pattern that backtracks exponentially on it (given up
   after `PATTERN_TIMEOUT`), against grading an ordinary pattern answer.

Usage: .venv/bin/python bench/hostile_inputs.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from subgraphs.assessments.questions import (  # noqa: E402
    PATTERN_TIMEOUT,
    Accepted,
    MatchMode,
    QuestionDraft,
    QuestionKind,
    build_spec,
    grade_objective,
)
from subgraphs.notifications.templates import TemplateProblem, check_template, render  # noqa: E402
from tests.unit.assessments.test_grading import EVIL, EVIL_ANSWER  # noqa: E402
from tests.unit.notifications.test_templates import RUNAWAY_TEMPLATES  # noqa: E402

ORDINARY_TEMPLATE = (
    "Hello {{ recipient_name }},\n\n{{ message }}\n\n"
    "{% for item in items %}- {{ item|upper }}\n{% endfor %}-- {{ platform_name }}"
)
ORDINARY_VALUES = {
    "recipient_name": "Ada",
    "message": "The exam moved to Friday. " * 20,
    "items": ["room 4", "bring a pencil", "90 minutes"],
    "platform_name": "LMS Platform",
}
ORDINARY_PATTERN = QuestionDraft(
    QuestionKind.SHORT_ANSWER,
    "Capital of France?",
    accepted=(Accepted(r"(?:the )?city of light", MatchMode.PATTERN),),
)


def seconds(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of `action` over `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def refuse(source: str) -> None:
    try:
        check_template(source)
        render(source, {})
    except TemplateProblem:
        return
    raise AssertionError(f"not refused: {source[:60]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args()

    ordinary = seconds(lambda: render(ORDINARY_TEMPLATE, ORDINARY_VALUES), args.repeat * 20)
    print(f"ordinary template rendered: {ordinary * 1e3:.3f} ms (baseline)\n")
    print(f"{'runaway template':<72} {'ms':>9} {'x baseline':>11}")
    refusals = []
    for source in RUNAWAY_TEMPLATES:
        took = seconds(functools.partial(refuse, source), args.repeat)
        refusals.append(took)
        shown = source if len(source) <= 70 else source[:67] + "..."
        print(f"{shown:<72} {took * 1e3:9.2f} {took / ordinary:11.0f}")
    print(f"{'slowest refusal':<72} {max(refusals) * 1e3:9.2f} {max(refusals) / ordinary:11.0f}")

    plain_spec = build_spec(ORDINARY_PATTERN)
    evil_spec = build_spec(EVIL)
    plain = seconds(
        lambda: grade_objective(ORDINARY_PATTERN.kind, plain_spec, {"text": "City of Light"}, 1),
        args.repeat * 20,
    )
    evil = seconds(
        lambda: grade_objective(EVIL.kind, evil_spec, {"text": EVIL_ANSWER}, 1), args.repeat
    )
    print(f"\nordinary pattern answer graded: {plain * 1e3:.3f} ms (baseline)")
    print(
        f"backtracking pattern answer graded: {evil * 1e3:.1f} ms, {evil / plain:.0f}x baseline "
        f"(given up after PATTERN_TIMEOUT = {PATTERN_TIMEOUT * 1e3:.0f} ms)"
    )


if __name__ == "__main__":
    main()
