"""`lms grader`: consume grading jobs, run each in the sandbox, answer on the job's reply
queue, and only then acknowledge it (see common/grading.py for the protocol).

A job is acknowledged after its result is published with a publisher confirm; a worker
that dies before that leaves it to the broker to deliver again. A redelivered job this
process already graded gets the same result again (kept for the last ``REMEMBERED`` jobs)
rather than a second run; across processes the caller keeps only the first answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from common.events.broker import close, connect
from common.grading import CONTENT_TYPE, GradingJob, declare_jobs_queue, encode_result
from common.settings import Settings
from common.telemetry.metrics import metrics_served
from grader.sandbox import CONCURRENCY, check_available, run_code

log = logging.getLogger(__name__)

REMEMBERED = 1024  # results kept for redeliveries to this process


class Grader:
    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel
        self.results: OrderedDict[str, bytes] = OrderedDict()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        job_id, reply_to = message.correlation_id, message.reply_to
        if not job_id or not reply_to:
            log.warning("grading job without a correlation id or reply queue: dropped")
            await message.reject(requeue=False)
            return
        body = self.results.get(job_id)
        if body is None:
            try:
                job = GradingJob.decode(message.body)
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable grading job: dropped", extra={"job": job_id})
                await message.reject(requeue=False)
                return
            try:
                result = await run_code(job.source, job.tests, job.limits)
            except Exception:  # a bug, not the learner: no answer, the caller says so
                log.exception("grading failed: job dropped", extra={"job": job_id})
                await message.reject(requeue=False)
                return
            body = encode_result(result)
            self.remember(job_id, body)
        # mandatory=False: a caller gone (its reply queue with it) is no reason to grade again
        await self.channel.default_exchange.publish(
            aio_pika.Message(body, content_type=CONTENT_TYPE, correlation_id=job_id),
            routing_key=reply_to,
            mandatory=False,
        )
        await message.ack()

    def remember(self, job_id: str, body: bytes) -> None:
        self.results[job_id] = body
        while len(self.results) > REMEMBERED:
            self.results.popitem(last=False)


async def run_grader(settings: Settings) -> None:
    """Grade until cancelled, ``CONCURRENCY`` jobs at a time (and serve /metrics with a
    metrics port)."""
    await asyncio.to_thread(check_available)
    connection = await connect(settings.amqp_url)
    try:
        channel = await connection.channel()  # publisher confirms: publish waits for the ack
        await channel.set_qos(prefetch_count=CONCURRENCY)
        jobs = await declare_jobs_queue(channel, settings.grader_queue)
        grader = Grader(channel)
        await jobs.consume(grader.handle)
        log.info("grader consuming", extra={"queue": settings.grader_queue})
        async with metrics_served(settings):
            await asyncio.Event().wait()
    finally:
        await close(connection)
