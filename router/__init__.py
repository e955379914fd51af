"""A general Apollo Federation v2 router. Importing it first decides whether its hot modules
run compiled or as pure Python (`router.native`)."""

import router.native  # noqa: F401
