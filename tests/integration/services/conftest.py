"""The service-credential tests reuse the courses tests' accounts and course builders."""

from tests.integration.courses.conftest import admin, graph, instructor, student

__all__ = ["admin", "graph", "instructor", "student"]
