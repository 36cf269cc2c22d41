"""Whatever the fault suite starts is stopped however the suite ends: a failed scenario, a
pytest timeout, an exception in the harness, or an interpreter exit.

Each process and the throwaway cluster register a cleanup when they start and forget it when
they are stopped the ordinary way. ``reap()`` runs what is left (newest first); it runs at exit
and from the pytest test's finalizer."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import signal
import subprocess
from collections.abc import Callable

_cleanups: dict[int, Callable[[], None]] = {}
_tokens = itertools.count()


def register(cleanup: Callable[[], None]) -> int:
    token = next(_tokens)
    _cleanups[token] = cleanup
    return token


def forget(token: int | None) -> None:
    if token is not None:
        _cleanups.pop(token, None)


def kill_popen(process: subprocess.Popen[bytes]) -> Callable[[], None]:
    def cleanup() -> None:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    return cleanup


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to every process of ``process``'s group (started with ``start_new_session``), as
    a container's end takes every process in it: the service's worker processes included, which
    a SIGKILL of the service alone leaves behind for good."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def kill_popen_group(process: subprocess.Popen[bytes]) -> Callable[[], None]:
    return lambda: kill_group(process)


def kill_pid(pid: int) -> Callable[[], None]:
    """For a child this process still has to wait for (an asyncio subprocess)."""

    def cleanup() -> None:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    return cleanup


def reap() -> int:
    """Run every cleanup still registered; how many there were."""
    count = 0
    while _cleanups:
        token = max(_cleanups)
        cleanup = _cleanups.pop(token)
        count += 1
        with contextlib.suppress(Exception):
            cleanup()
    return count


atexit.register(reap)
