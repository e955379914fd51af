"""PostgreSQL: ``initdb`` on first use, then ``postgres`` as a child on a loopback port."""

from __future__ import annotations

import os
import pwd
import re
import signal
import subprocess
from functools import cached_property
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from common.infra.errors import ServerStartError
from common.infra.ports import LOOPBACK
from common.infra.process import (
    as_user,
    clean_env,
    find_binary,
    hand_over,
    run_logged,
    service_account,
)
from common.infra.server import Server

BIN_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
)
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; as root we run it as this system user instead.
SERVICE_USER = "postgres"
SOCKET_PATH_MAX = 107
FIRST_ONE_NUMBER_MAJOR = 10  # majors before it had two numbers (9.6)
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresServer(Server):
    name = "PostgreSQL"
    slug = "postgres"
    startup_timeout: ClassVar[float] = 60.0

    def __init__(
        self,
        state_dir: Path,
        port: int,
        *,
        password: str,
        fast: bool = False,
        max_connections: int = 200,
    ) -> None:
        super().__init__(state_dir, port)
        self.password = password
        self.fast = fast
        self.max_connections = max_connections

    @property
    def dsn(self) -> str:
        password = quote(self.password, safe="")
        return f"postgresql://{SUPERUSER}:{password}@{LOOPBACK}:{self.port}/postgres"

    @property
    def url(self) -> str:
        return self.dsn

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @cached_property
    def _bin_dir(self) -> Path:
        return Path(find_binary("postgres", *BIN_DIRS)).resolve().parent

    @cached_property
    def _account(self) -> pwd.struct_passwd | None:
        return service_account(SERVICE_USER) if os.geteuid() == 0 else None

    def _prepare(self) -> None:
        if self._account is not None:
            hand_over(self.state_dir, self._account)
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.exists():
            self._initdb()
            return
        made_by, ours = version_file.read_text().strip(), self._major_version()
        if made_by != ours:
            raise ServerStartError(
                self._title(),
                f"its data directory {self.data_dir} was made by PostgreSQL {made_by} and "
                f"these binaries ({self._bin_dir}) are PostgreSQL {ours}: move the folder away "
                "to start afresh, or upgrade it with pg_upgrade",
            )

    def _major_version(self) -> str:
        """The major version of the binaries, as initdb writes it in PG_VERSION."""
        done = subprocess.run(
            [str(self._bin_dir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        found = re.search(r"(\d+)\.(\d+)", done.stdout)
        if found is None:
            raise ServerStartError(self._title(), f"unknown version {done.stdout.strip()!r}")
        major, minor = int(found[1]), found[2]
        return str(major) if major >= FIRST_ONE_NUMBER_MAJOR else f"{major}.{minor}"

    def _initdb(self) -> None:
        pwfile = self.state_dir / "initdb.pw"
        descriptor = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as secret:
            secret.write(self.password + "\n")
        try:
            if self._account is not None:
                os.chown(pwfile, self._account.pw_uid, self._account.pw_gid)
            command = [
                *self._as_owner(),
                str(self._bin_dir / "initdb"),
                f"--pgdata={self.data_dir}",
                f"--username={SUPERUSER}",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
                *(["--no-sync"] if self.fast else []),
            ]
            code = run_logged(command, self.log_path, clean_env(["PG"]), self.state_dir, 120)
        finally:
            pwfile.unlink()
        if code != 0:
            raise ServerStartError(self._title(), f"initdb exited with code {code}", self.log_path)

    def _as_owner(self) -> list[str]:
        return [] if self._account is None else as_user(self._account)

    def _command(self) -> list[str]:
        socket_dir = str(self.state_dir)
        if len(f"{socket_dir}/.s.PGSQL.{self.port}") > SOCKET_PATH_MAX:
            socket_dir = ""  # too long for a unix socket: TCP only
        settings = [
            f"listen_addresses={LOOPBACK}",
            f"port={self.port}",
            f"unix_socket_directories={socket_dir}",
            f"max_connections={self.max_connections}",
            *(FAST_SETTINGS if self.fast else ()),
        ]
        options = [argument for setting in settings for argument in ("-c", setting)]
        return [
            *self._as_owner(),
            str(self._bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            *options,
        ]

    def _environment(self) -> dict[str, str]:
        return clean_env(["PG"])

    def _healthy(self) -> bool:
        login = [
            str(self._psql()),
            "--no-psqlrc",
            "--no-password",
            "--tuples-only",
            f"--host={LOOPBACK}",
            f"--port={self.port}",
            f"--username={SUPERUSER}",
            "--dbname=postgres",
            "--command=select 1",
        ]
        env = clean_env(["PG"], PGPASSWORD=self.password, PGCONNECT_TIMEOUT="2")
        done = subprocess.run(login, env=env, capture_output=True, timeout=10, check=False)
        return done.returncode == 0

    def _psql(self) -> str:
        psql = self._bin_dir / "psql"
        return str(psql) if psql.exists() else find_binary("psql")

    def _request_shutdown(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back sessions, checkpoint
