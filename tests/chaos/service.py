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

STARTUP_TIMEOUT_SECONDS = 30.0
# ECS sends SIGKILL 30 s after SIGTERM: a clean stop must end before.
STOP_TIMEOUT_SECONDS = 30.0


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
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._process = self._spawn()
        self.starts += 1
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"service exited on start: see {self.log_path}")
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"service did not start in time: see {self.log_path}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(command("serve"), env=self._env, stdout=log, stderr=log)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, in-flight messages stay invisible until their
        visibility timeout passes."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM, then wait for the exit; the exit status and the seconds it took."""
        assert self._process is not None
        started = time.monotonic()
        self._process.send_signal(signal.SIGTERM)
        while self._process.poll() is None:
            if time.monotonic() - started > STOP_TIMEOUT_SECONDS:
                self._process.kill()
                self._process.wait()
                return -9, time.monotonic() - started
            await asyncio.sleep(0.05)
        return self._process.returncode, time.monotonic() - started

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def service_env(base: dict[str, str]) -> dict[str, str]:
    """The parent environment without any setting of ours, plus ``base``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVENT_DATA_", "AWS_", "DATABASE_URL"))
    }
    return env | base
