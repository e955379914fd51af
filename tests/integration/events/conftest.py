"""The events tests reuse the courses tests' accounts and course builders."""

from tests.integration.courses.conftest import admin, graph, instructor, other_instructor, student

__all__ = ["admin", "graph", "instructor", "other_instructor", "student"]
