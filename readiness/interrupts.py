"""Ctrl-C, SIGTERM (and Ctrl-Break on Windows) end a run the same way: as a KeyboardInterrupt,
which pytest turns into an orderly teardown, so the cleanup ledger always runs."""

from __future__ import annotations

import _thread
import signal
import threading
import time
from contextlib import contextmanager

from . import deadline

_TERMINATING = [getattr(signal, name) for name in ("SIGTERM", "SIGBREAK") if hasattr(signal, name)]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


_STOPPING = threading.Event()  # the run was interrupted and is ending in order


def install() -> None:
    _STOPPING.clear()
    if threading.current_thread() is threading.main_thread():
        for signum in _TERMINATING:
            signal.signal(signum, _raise_interrupt)


def stop_in_order() -> None:
    """The run was interrupted and now ends in order (cleanup, reports): a second Ctrl-C or SIGTERM only hurries
    what is under way. Raised again, it would break pytest's own reporting and leave no verdict (exit -2)."""
    _STOPPING.set()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, *_TERMINATING):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # a job started with SIGINT ignored keeps it so
                signal.signal(signum, _hurry)


def run_ended() -> None:
    """The run is over: a later run in this process (the project's tests run many) starts without the stop."""
    _STOPPING.clear()


def _hurry(signum, frame) -> None:
    deadline.REAPER.hurry(deadline.INTERRUPT_GRACE)


@contextmanager
def deferred_interrupts():
    """Holds back interrupts while cleaning up; one that arrived meanwhile is raised afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def hold_back(signum, frame):
        received.append(signum)
        deadline.REAPER.hurry(deadline.INTERRUPT_GRACE)  # what is under way ends soon: the hold-back stays short

    signals = [signal.SIGINT, *_TERMINATING]
    previous = {signum: signal.signal(signum, hold_back) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received and not _STOPPING.is_set():
            raise KeyboardInterrupt(f"signal {received[0]} (deferred until cleanup finished)")


class Watchdog:
    """READINESS_TIME_LIMIT: when the run outlives it, the main thread is interrupted like Ctrl-C, so the
    ordinary interrupt path (cleanup ledger, NO-GO readiness.json) runs even if the server hangs.

    Three ways, so that it works whatever signals the process started with (a background job may have
    SIGINT ignored): the run's deadline cuts every request and wait (readiness/deadline.py), the HTTP layer
    raises TimeLimitExceeded at the next request, and the main thread gets a signal it handles."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._main = threading.main_thread().ident
        self._message = f"time limit of {seconds:g} s exceeded (READINESS_TIME_LIMIT)"
        deadline.RUN.limit(time.monotonic() + seconds, self._message)
        self._fired = False
        self._cancelled = threading.Event()
        self._lock = threading.Lock()  # cancel() and the signal never cross: after cancel(), no signal comes
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def reason(self) -> str | None:
        return self._message if self._fired or deadline.RUN.expired() else None

    def _expire(self) -> None:
        self._fired = True
        deadline.REAPER.wake()  # requests bound by the run's deadline are cut now
        waited_until = time.monotonic() + 1.0
        while not deadline.RUN.raised.is_set() and time.monotonic() < waited_until:
            if self._cancelled.wait(0.05):
                return  # the run ended meanwhile: an interrupt now would hit its teardown
        if deadline.RUN.raised.is_set():
            return  # a cut request already ended the run: a second interrupt would break pytest's own teardown
        with self._lock:
            signum = _handled_interrupt()
            if self._cancelled.is_set() or signum is None:
                return  # cancelled, or no signal is ours to send: the HTTP layer ends the run (TimeLimitExceeded)
            if hasattr(signal, "pthread_kill"):
                # A real signal also breaks a blocking wait of the main thread; interrupt_main() waits for it to return.
                signal.pthread_kill(self._main, signum)
            else:
                _thread.interrupt_main(signum)  # Windows: the deadlines cut the blocking waits

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
        self._timer.cancel()
        deadline.RUN.clear()


def _handled_interrupt() -> int | None:
    """SIGINT if Python handles it; else a terminating signal install() gave a handler (SIGINT may have been
    ignored at start, as for background jobs); None if no signal has a Python handler."""
    for signum in (signal.SIGINT, *_TERMINATING):
        if callable(signal.getsignal(signum)):
            return signum
    return None
