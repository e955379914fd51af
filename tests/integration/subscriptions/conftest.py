"""Subscriptions go through the router of the session; these tests reuse the courses tests'
accounts and course builders."""

from tests.integration.courses.conftest import admin, graph, instructor, other_instructor, student

__all__ = ["admin", "graph", "instructor", "other_instructor", "student"]
