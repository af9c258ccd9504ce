"""Ctrl-C, SIGTERM (and Ctrl-Break on Windows) end a run the same way: as a KeyboardInterrupt,
which pytest turns into an orderly teardown, so the cleanup ledger always runs."""

from __future__ import annotations

import _thread
import signal
import threading
from contextlib import contextmanager

_TERMINATING = [getattr(signal, name) for name in ("SIGTERM", "SIGBREAK") if hasattr(signal, name)]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def install() -> None:
    if threading.current_thread() is threading.main_thread():
        for signum in _TERMINATING:
            signal.signal(signum, _raise_interrupt)


@contextmanager
def deferred_interrupts():
    """Holds back interrupts while cleaning up; one that arrived meanwhile is raised afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    signals = [signal.SIGINT, *_TERMINATING]
    previous = {signum: signal.signal(signum, lambda n, f: received.append(n)) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            raise KeyboardInterrupt(f"signal {received[0]} (deferred until cleanup finished)")


class Watchdog:
    """READINESS_TIME_LIMIT: when the run outlives it, the main thread is interrupted like Ctrl-C, so the
    ordinary interrupt path (cleanup ledger, NO-GO readiness.json) runs even if the server hangs."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.reason: str | None = None
        self._main = threading.main_thread().ident
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.reason = f"time limit of {self.seconds:g} s exceeded (READINESS_TIME_LIMIT)"
        if hasattr(signal, "pthread_kill"):
            # A real SIGINT also breaks a blocking socket read; interrupt_main() alone waits for it to return.
            signal.pthread_kill(self._main, signal.SIGINT)
        else:
            _thread.interrupt_main()  # Windows: the per-request time-out bounds the wait

    def cancel(self) -> None:
        self._timer.cancel()
