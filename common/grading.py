"""Grading jobs over RabbitMQ: what a job and its result are, and the client that sends one.

Learner code never runs in a service: the assessments service sends a job (the code, the
tests, the limits) to the durable queue `LMS_GRADER_QUEUE` (`grader.jobs`) and waits, for at most
`LMS_GRADER_TIMEOUT_SECONDS`, for the answer on its own reply queue (request/reply with a
correlation id, because a submission is graded while the learner waits for its result).
A grader worker (`lms grader`, package `grader`) runs it under bubblewrap, publishes the
result with a publisher confirm, and only then acknowledges the job: a worker that dies
before that leaves the job to be redelivered, never lost. Redelivered or not, the caller
keeps the first answer for a correlation id and ignores any other, and writes it in one
transaction that refuses an attempt already submitted, so a job is never graded twice into
different results. A job waiting longer than the caller expires (message TTL), so a grader
starting late does not work for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from common.errors import Unavailable
from common.events.broker import close, connect

CONTENT_TYPE: Final = "application/json"


class Verdict(enum.StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    MEMORY_LIMIT = "MEMORY_LIMIT"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024
    output_bytes: int = 64 * 1024
    max_source_bytes: int = 64 * 1024


DEFAULT_LIMITS: Final = SandboxLimits()


@dataclass(frozen=True)
class CodeTest:
    name: str
    code: str


@dataclass(frozen=True)
class TestOutcome:
    name: str
    verdict: Verdict
    message: str


@dataclass(frozen=True)
class RunResult:
    outcomes: list[TestOutcome]
    output: str
    duration_ms: int

    @property
    def passed(self) -> int:
        return sum(outcome.verdict is Verdict.PASSED for outcome in self.outcomes)


@dataclass(frozen=True)
class GradingJob:
    source: str
    tests: list[CodeTest]
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @staticmethod
    def decode(body: bytes) -> GradingJob:
        """Raises ValueError (or KeyError, TypeError) on a body that is not a job."""
        data = json.loads(body)
        return GradingJob(
            source=str(data["source"]),
            tests=[CodeTest(str(t["name"]), str(t["code"])) for t in data["tests"]],
            limits=SandboxLimits(**data["limits"]),
        )


def encode_result(result: RunResult) -> bytes:
    return json.dumps(asdict(result)).encode()


def decode_result(body: bytes) -> RunResult:
    data: dict[str, Any] = json.loads(body)
    return RunResult(
        outcomes=[
            TestOutcome(str(o["name"]), Verdict(o["verdict"]), str(o["message"]))
            for o in data["outcomes"]
        ],
        output=str(data["output"]),
        duration_ms=int(data["duration_ms"]),
    )


async def declare_jobs_queue(channel: AbstractChannel, name: str) -> AbstractQueue:
    return await channel.declare_queue(name, durable=True)


class GraderClient:
    """Sends grading jobs and waits for their results; one connection and one exclusive
    reply queue per process, opened on first use."""

    def __init__(self, amqp_url: str, queue: str, timeout_seconds: float) -> None:
        self.amqp_url = amqp_url
        self.timeout_seconds = timeout_seconds
        self.queue = queue
        self._waiting: dict[str, asyncio.Future[RunResult]] = {}
        self._ready: asyncio.Future[tuple[AbstractChannel, str]] | None = None
        self._connection: AbstractRobustConnection | None = None

    async def grade(
        self, source: str, tests: Sequence[CodeTest], limits: SandboxLimits = DEFAULT_LIMITS
    ) -> RunResult:
        """The grader's result, or Unavailable (SERVICE_UNAVAILABLE) when none answers in
        time or the broker cannot be reached."""
        job = GradingJob(source, list(tests), limits)
        correlation_id = uuid.uuid4().hex
        answer: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        self._waiting[correlation_id] = answer
        try:
            async with asyncio.timeout(self.timeout_seconds):
                channel, reply_to = await self._connected()
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        job.encode(),
                        content_type=CONTENT_TYPE,
                        correlation_id=correlation_id,
                        reply_to=reply_to,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        expiration=self.timeout_seconds,
                    ),
                    routing_key=self.queue,
                )
                return await answer
        except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as error:
            raise Unavailable(
                f"No grader answered within {self.timeout_seconds:g} s; the answers are "
                "saved: submit again later."
            ) from error
        finally:
            self._waiting.pop(correlation_id, None)

    async def _connected(self) -> tuple[AbstractChannel, str]:
        if self._ready is None or (self._ready.done() and self._ready.exception() is not None):
            self._ready = asyncio.ensure_future(self._connect())
        return await asyncio.shield(self._ready)

    async def _connect(self) -> tuple[AbstractChannel, str]:
        connection = await connect(self.amqp_url)
        try:
            channel = await connection.channel()
            await declare_jobs_queue(channel, self.queue)
            # named here, so a reconnected channel declares the same reply queue again
            replies = await channel.declare_queue(
                f"{self.queue}.replies.{uuid.uuid4().hex}", exclusive=True, auto_delete=True
            )
            await replies.consume(self._answered, no_ack=True)
        except BaseException:
            await close(connection)
            raise
        self._connection = connection
        return channel, replies.name

    async def _answered(self, message: AbstractIncomingMessage) -> None:
        """The first answer to a job wins; repeats (a redelivered job) and strays are
        dropped."""
        waiting = self._waiting.get(message.correlation_id or "")
        if waiting is None or waiting.done():
            return
        try:
            waiting.set_result(decode_result(message.body))
        except (ValueError, KeyError, TypeError) as error:
            waiting.set_exception(OSError(f"unreadable grading result: {error}"))

    async def hold(self) -> None:
        """Until cancelled (a service's lifespan, as a background loop); then close."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._ready is None:
            return
        ready, self._ready = self._ready, None
        if not ready.done():
            ready.cancel()
        with contextlib.suppress(BaseException):
            await ready
        if self._connection is not None:
            await close(self._connection)
            self._connection = None
