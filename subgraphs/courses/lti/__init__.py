"""LTI 1.3 / LTI Advantage, the platform side: registered tools, their placements in
courses, and the OIDC launch. It sits with courses because a launch carries a course's
context and a lesson-like placement; it is its own package so it grows apart."""
