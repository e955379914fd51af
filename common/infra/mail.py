"""A local SMTP server (aiosmtpd) that keeps what it receives: the dev run's mail catcher
and the tests' mail sink. Messages are kept in memory and, given a folder, written there as
.eml files a mail client opens."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from common.infra.ports import LOOPBACK, free_port


class MailCatcher:
    def __init__(self, port: int | None = None, folder: Path | None = None) -> None:
        self.port = port or free_port()
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self._refusals: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=LOOPBACK, port=self.port)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self._lock:
            for index, (code, recipient) in enumerate(self._refusals):
                if recipient is None or recipient in envelope.rcpt_tos:
                    del self._refusals[index]
                    return f"{code} refused by the mail catcher"
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            count = len(self.messages)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{count:05}.eml").write_bytes(raw)
        return "250 OK"

    def refuse_next(self, code: int, times: int = 1, recipient: str | None = None) -> None:
        """Answer the next `times` messages (to `recipient`, or to anyone) with SMTP reply
        `code` (451: try later, 550: no)."""
        with self._lock:
            self._refusals = [(code, recipient)] * times

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
