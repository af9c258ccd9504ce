"""Ctrl-C, SIGTERM (and Ctrl-Break on Windows) end a run the same way: as a KeyboardInterrupt,
which pytest turns into an orderly teardown, so the cleanup ledger always runs."""

from __future__ import annotations

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
