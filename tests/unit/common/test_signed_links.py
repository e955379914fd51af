"""Signed links: valid until they expire, for what and what for they were signed only."""

from __future__ import annotations

from common.signed_links import link_problem, signature

SECRET = "test-secret"
INVALID = "The download link is not valid."


def test_a_signed_link_holds_until_it_expires() -> None:
    good = signature(SECRET, "data-export", "abc", 1000)
    assert link_problem(SECRET, "data-export", "abc", "1000", good, now=999.0) is None
    assert link_problem(SECRET, "data-export", "abc", "1000", good, now=1001.0) == (
        "The download link has expired; ask for a new one."
    )


def test_a_signature_opens_only_its_subject_and_purpose_and_expiry() -> None:
    good = signature(SECRET, "data-export", "abc", 1000)
    assert link_problem(SECRET, "data-export", "abd", "1000", good, now=0.0) == INVALID
    assert link_problem(SECRET, "attachment", "abc", "1000", good, now=0.0) == INVALID
    assert link_problem(SECRET, "data-export", "abc", "2000", good, now=0.0) == INVALID
    assert link_problem("other", "data-export", "abc", "1000", good, now=0.0) == INVALID
    assert link_problem(SECRET, "data-export", "abc", "later", good, now=0.0) == INVALID
    assert link_problem(SECRET, "data-export", "abc", "1000", "", now=0.0) == INVALID
