"""A throwaway PostgreSQL cluster of the suite's own, on its own port, so that restarting it
mid-load touches nobody else's database."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.chaos import reaper
from tests.chaos.ports import PORT_ATTEMPTS, free_port

POSTGRES_USER = "postgres"
# What PostgreSQL logs when its port is taken.
BIND_FAILED = ("could not bind", "Address already in use")


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        located = shutil.which("initdb")
        if located is None:
            raise RuntimeError("initdb not found: install PostgreSQL (make postgres)")
        return Path(located).parent
    return Path(found[-1]).parent


def _as_postgres(args: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster's commands as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_USER, "--", *args]
    if pwd.getpwuid(os.geteuid()).pw_name == POSTGRES_USER:
        return args
    raise RuntimeError("the fault suite runs its own PostgreSQL: run it as root or postgres")


class ThrowawayCluster:
    """initdb in a temporary directory owned by postgres; pg_ctl start, restart, stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self._bin = _bindir()
        self._dir = Path(tempfile.mkdtemp(prefix="event-data-chaos-pg-"))
        # Stopped and removed however the suite ends (see reaper).
        self._reaper_token = reaper.register(self.destroy)
        shutil.chown(self._dir, POSTGRES_USER, POSTGRES_USER)
        self._data = self._dir / "data"
        self._log = self._dir / "postgres.log"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self._bin / args[0]), *args[1:]]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def _options(self) -> str:
        # The socket lives in the cluster's own directory; fsync off because the suite's data
        # is thrown away, and a process crash (what it tests) loses nothing fsync would keep.
        return (
            f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=200"
        )

    def start(self) -> None:
        """initdb, then start; on a port another process took meanwhile, start on another."""
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        for attempt in range(PORT_ATTEMPTS):
            logged = self._log.stat().st_size if self._log.exists() else 0
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self._data),
                    "-l",
                    str(self._log),
                    "-w",
                    "-o",
                    self._options(),
                    "start",
                )
                return
            except subprocess.CalledProcessError:
                with self._log.open(errors="replace") as log:
                    log.seek(logged)
                    clash = any(marker in log.read() for marker in BIND_FAILED)
                if not clash or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()

    def restart(self, mode: str) -> None:
        """``fast`` ends every session cleanly; ``immediate`` is a crash with recovery."""
        self._run(
            "pg_ctl",
            "-D",
            str(self._data),
            "-l",
            str(self._log),
            "-w",
            "-m",
            mode,
            "-o",
            self._options(),
            "restart",
        )

    def destroy(self) -> None:
        reaper.forget(self._reaper_token)
        if (self._data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run("pg_ctl", "-D", str(self._data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)
