"""``event-data serve`` as a real process: started, killed with SIGKILL, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.chaos import reaper
from tests.chaos.ports import PORT_ATTEMPTS, free_port

STARTUP_TIMEOUT_SECONDS = 30.0
# ECS sends SIGKILL 30 s after SIGTERM: a clean stop must end before.
STOP_TIMEOUT_SECONDS = 30.0
# What uvicorn logs when its port is taken.
BIND_FAILED = b"address already in use"


def command(*args: str) -> list[str]:
    """``event-data ARGS``, from this virtualenv."""
    script = Path(sys.executable).with_name("event-data")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "event_data.cli", *args]


class ServiceProcess:
    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self._env = env
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._reaper_token: int | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start and wait for ``/healthz``. The first start moves to another port if another
        process took its port; a restart keeps its port, which senders already use."""
        first = self.starts == 0
        for attempt in range(PORT_ATTEMPTS):
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._process = self._spawn()
            self.starts += 1
            if await self._healthy(self._process):
                return
            if first and attempt < PORT_ATTEMPTS - 1 and self._port_taken(since=logged):
                self.port = free_port()
                self._env = self._env | {"EVENT_DATA_PORT": str(self.port)}
                continue
            raise RuntimeError(f"service exited on start: see {self.log_path}")

    async def _healthy(self, process: subprocess.Popen[bytes]) -> bool:
        """True once ``/healthz`` answers, False if the process exits first."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    return False
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"service did not start in time: see {self.log_path}")

    def _port_taken(self, since: int) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(since)
            return BIND_FAILED in log.read().lower()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            # A group of its own, so that a kill takes the worker processes with it.
            process = subprocess.Popen(
                command("serve"), env=self._env, stdout=log, stderr=log, start_new_session=True
            )
        reaper.forget(self._reaper_token)
        self._reaper_token = reaper.register(reaper.kill_popen_group(process))
        return process

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, in-flight messages stay invisible until their
        visibility timeout passes."""
        if self._process is not None and self._process.poll() is None:
            reaper.kill_group(self._process)

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM, then wait for the exit; the exit status and the seconds it took."""
        assert self._process is not None
        started = time.monotonic()
        self._process.send_signal(signal.SIGTERM)
        while self._process.poll() is None:
            if time.monotonic() - started > STOP_TIMEOUT_SECONDS:
                reaper.kill_group(self._process)
                return -9, time.monotonic() - started
            await asyncio.sleep(0.05)
        return self._process.returncode, time.monotonic() - started

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                reaper.kill_group(self._process)


def service_env(base: dict[str, str]) -> dict[str, str]:
    """The parent environment without any setting of ours, plus ``base``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVENT_DATA_", "AWS_", "DATABASE_URL"))
    }
    return env | base
