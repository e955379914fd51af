"""The grader worker: grading jobs from RabbitMQ, learner code run under bubblewrap.

Imports nothing of the subgraphs, the router or `lms`; no service imports it (a contract in
pyproject.toml), so no service can run learner code itself.
"""
