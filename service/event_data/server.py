"""uvicorn's server, ending with exit status 0 after a graceful stop.

uvicorn re-raises a SIGTERM it handled once the graceful stop is over, so the process dies "by
signal 15". A container whose stop was orderly should say so with status 0; a second signal
still forces the exit, as in uvicorn.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Generator

import uvicorn

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)
