"""Headless Chromium for the tests, driven over the Chrome DevTools Protocol (a WebSocket,
spoken with `websockets`, already a dependency) rather than Playwright or Selenium: no
driver to download and match to the browser, just Debian's chromium.

The browser reaches loopback only: every other host goes to a proxy that is not there and
resolves to nothing, so a page that loads proves it needs no network."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support import eventually

WAIT = 15.0  # seconds a condition may take in the page
OFFLINE = (
    "--proxy-server=http://127.0.0.1:9",  # loopback bypasses a proxy; nothing listens on 9
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Collects the page's Content-Security-Policy violations (run before any of its scripts).
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class BrowserError(Exception):
    pass


@dataclass
class Browser:
    connection: ClientConnection
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id", -1), None)
            if future is None:
                self.events.append(message)
            elif not future.done():
                future.set_result(message)

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        await self.connection.send(json.dumps(message))
        answer = await asyncio.wait_for(future, WAIT)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer["result"]

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Page]:
        target = (await self.call("Target.createTarget", url="about:blank"))["targetId"]
        session = (await self.call("Target.attachToTarget", targetId=target, flatten=True))[
            "sessionId"
        ]
        page = Page(self, session)
        await page.call("Page.enable")
        await page.call("Runtime.enable")
        await page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_VIOLATIONS)
        try:
            yield page
        finally:
            await self.call("Target.closeTarget", targetId=target)


@dataclass
class Page:
    browser: Browser
    session: str

    async def call(self, method: str, **params: Any) -> Any:
        return await self.browser.call(method, self.session, **params)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        answer = await self.call("Page.navigate", url=url)
        if "errorText" in answer:
            raise BrowserError(f"{url}: {answer['errorText']}")

    async def wait_for(self, expression: str, what: str) -> Any:
        """The expression's first truthy value, evaluated until it has one or time is up."""
        try:
            return await eventually(lambda: self.evaluate(expression), within=WAIT)
        except AssertionError:
            raise AssertionError(f"{what}: not within {WAIT}s; {self.problems()}") from None

    def problems(self) -> list[str]:
        """What went wrong in the page so far: uncaught exceptions and console errors."""
        seen = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                seen.append(str(params["exceptionDetails"].get("exception", params)))
            elif event.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
                seen.append(" ".join(str(arg.get("value", arg)) for arg in params["args"]))
        return seen


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("chromium is not installed: run bash scripts/setup.sh")
    return path


async def _devtools_url(profile: Path, process: asyncio.subprocess.Process) -> str:
    """The browser's DevTools WebSocket, from the file Chromium writes once it listens."""
    port_file = profile / "DevToolsActivePort"

    def listening() -> str | bool:
        if process.returncode is not None:
            raise RuntimeError(f"chromium did not start (exit status {process.returncode})")
        with contextlib.suppress(FileNotFoundError):
            lines = port_file.read_text().split("\n")
            if len(lines) >= 2 and lines[1]:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        return False

    url: str = await eventually(listening, within=WAIT)
    return url


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as scratch:
        profile = Path(scratch)
        arguments = [
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            *OFFLINE,
            *(["--no-sandbox"] if os.geteuid() == 0 else []),  # Chromium's rule for root
            "about:blank",
        ]
        process = await asyncio.create_subprocess_exec(
            chromium_path(),
            *arguments,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its helpers (renderer, crashpad) in one process group
        )
        try:
            url = await _devtools_url(profile, process)
            async with connect(url, max_size=None) as connection:
                browser = Browser(connection)
                reader = asyncio.create_task(browser.read())
                try:
                    yield browser
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        finally:
            await _end(process)


async def _end(process: asyncio.subprocess.Process) -> None:
    """The browser and every helper it started, ended before its profile is removed (a
    helper still writing into the profile makes the removal fail)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    await process.wait()

    def group_gone() -> bool:
        return not _living_members(process.pid)

    try:
        await eventually(group_gone, within=WAIT)
    except AssertionError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await eventually(group_gone, within=WAIT)


def _living_members(group: int) -> list[int]:
    """The processes of a process group that still run (a zombie writes nothing, and where
    PID 1 reaps nothing it would stay forever)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")"
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == group and fields[0] != "Z":
                living.append(int(stat.parent.name))
    return living
