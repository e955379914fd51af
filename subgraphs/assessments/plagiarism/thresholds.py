"""Default thresholds (an assessment may set its own): the score from which a pair is
reported as suspicious, chosen on the labelled corpus (bench/plagiarism.py)."""

from __future__ import annotations

CODE_THRESHOLD = 0.5
TEXT_THRESHOLD = 0.3
