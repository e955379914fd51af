"""Logs, metrics and the ASGI middleware every service shares."""
