"""Deadlines that hold however slowly a server answers.

A socket time-out bounds one read, and restarts at every byte: a server that drips its reply
could hold a request for ever. So every request gets a total deadline (CRM_TIMEOUT, and never
later than the run's READINESS_TIME_LIMIT), and one reaper thread shuts down the sockets of a
request whose deadline has passed; the blocked read then returns at once, in whatever thread.
Sleeps between retries are cut by the same deadline. Clean-up after the run's deadline gets its
own short budget (CLEANUP_SECONDS).
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import inf

CLEANUP_SECONDS = 10.0  # what removing probe records may take once the run's time is up
INTERRUPT_GRACE = 3.0  # what a request under way may still take once Ctrl-C or SIGTERM arrived


class TimeLimitExceeded(KeyboardInterrupt):
    """The run's time limit passed: the run ends like Ctrl-C (orderly teardown, cleanup ledger, NO-GO)."""


class DeadlinePassed(Exception):
    """Raised inside the HTTP stack when a request's deadline leaves no time for the next step."""


class _RunClock:
    """The run's deadline (READINESS_TIME_LIMIT), shared by every thread of the process."""

    def __init__(self):
        self.at = inf
        self.reason: str | None = None
        self.raised = threading.Event()  # the HTTP layer already ended the run: no signal needed on top

    def limit(self, at: float, reason: str) -> None:
        self.at, self.reason = at, reason
        self.raised.clear()

    def clear(self) -> None:
        self.at, self.reason = inf, None

    def exceeded(self) -> TimeLimitExceeded:
        self.raised.set()
        return TimeLimitExceeded(self.reason or "time limit exceeded")

    def expired(self) -> str | None:
        return self.reason if time.monotonic() >= self.at else None


RUN = _RunClock()
_local = threading.local()  # .ticket: the request under way in this thread; .cleanup_until: a clean-up budget


@dataclass(eq=False)
class Ticket:
    """One request's deadline and the sockets it uses (duplicated handles, so they outlive TLS wrapping)."""

    deadline: float
    timeout: float
    cut_by: str = "request"  # whose deadline it is: "request" (CRM_TIMEOUT), "run", "clean-up" or "interrupt"
    sockets: list = field(default_factory=list)
    expired: bool = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def error(self, target: str, url: str | None = None) -> BaseException:
        from .errors import CrmTimeout

        if self.cut_by == "run":
            return RUN.exceeded()
        if self.cut_by == "clean-up":
            return CrmTimeout(f"{target} did not answer within the {CLEANUP_SECONDS:g} s left for clean-up", url=url)
        if self.cut_by == "interrupt":
            return CrmTimeout(f"the request to {target} was cut short by the interruption", url=url)
        return CrmTimeout(f"{target} did not answer within {self.timeout:g} s", url=url)


class _Reaper:
    """One daemon thread: shuts down the sockets of every request whose deadline has passed."""

    def __init__(self):
        self._tickets: set[Ticket] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, ticket: Ticket) -> None:
        with self._wake:
            self._tickets.add(ticket)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="readiness-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def unwatch(self, ticket: Ticket) -> None:
        with self._wake:
            self._tickets.discard(ticket)
            for handle in ticket.sockets:
                handle.close()
            ticket.sockets.clear()

    def attach(self, ticket: Ticket, sock) -> None:
        try:
            handle = socket.socket(sock.family, sock.type, sock.proto, fileno=socket.dup(sock.fileno()))
        except OSError:
            return  # already closed: nothing left to cut
        with self._wake:
            ticket.sockets.append(handle)
            if ticket.expired or ticket.remaining() <= 0:
                ticket.expired = True
                _cut(handle)

    def hurry(self, seconds: float) -> None:
        """Every request under way must end within `seconds` (an interrupt arrived)."""
        with self._wake:
            at = time.monotonic() + seconds
            for ticket in self._tickets:
                if at < ticket.deadline:
                    ticket.deadline, ticket.cut_by = at, "interrupt"
            self._wake.notify()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify()

    def _loop(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for ticket in self._tickets:
                    if ticket.deadline <= now and not ticket.expired:
                        ticket.expired = True
                        for handle in ticket.sockets:
                            _cut(handle)
                pending = [t.deadline for t in self._tickets if not t.expired]
                self._wake.wait(timeout=min(max(min(pending) - now, 0.01), 60) if pending else 60)


def _cut(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on this socket in any thread
    except OSError:
        pass


REAPER = _Reaper()


def current() -> Ticket | None:
    return getattr(_local, "ticket", None)


def _run_deadline() -> tuple[float, str]:
    """The latest a request of this thread may end, and whose deadline that is."""
    until = getattr(_local, "cleanup_until", None)
    if until is not None:
        return max(RUN.at, until), "clean-up"
    return RUN.at, "run"


@contextmanager
def bounded(timeout: float):
    """The deadline of one request (its redirects and retries included): `timeout` seconds, and never
    later than the run's deadline. Nested calls share the outer request's deadline."""
    outer = current()
    if outer is not None:
        yield outer
        return
    started = time.monotonic()
    run_at, whose = _run_deadline()
    ticket = Ticket(started + timeout, timeout) if started + timeout <= run_at else Ticket(run_at, timeout, whose)
    if ticket.remaining() <= 0:
        ticket.expired = True
    _local.ticket = ticket
    REAPER.watch(ticket)
    try:
        yield ticket
    finally:
        _local.ticket = None
        REAPER.unwatch(ticket)


def attach(sock) -> None:
    """Called by the HTTP connections for every socket a request uses; raises once the deadline passed."""
    ticket = current()
    if ticket is None:
        return
    REAPER.attach(ticket, sock)
    if ticket.expired:
        raise DeadlinePassed


def wait(seconds: float) -> None:
    """A pause between retries: cut short by the request's deadline, which it never outlasts."""
    ticket = current()
    if ticket is not None and seconds >= ticket.remaining():
        ticket.expired = True
        raise DeadlinePassed
    if seconds > 0:
        time.sleep(seconds)


def check_run() -> None:
    """Raises TimeLimitExceeded once the run's time is up (outside a clean-up budget)."""
    if getattr(_local, "cleanup_until", None) is None and RUN.expired():
        raise RUN.exceeded()


@contextmanager
def cleanup_budget(seconds: float = CLEANUP_SECONDS):
    """Clean-up may outlive the run's deadline, by `seconds` at most (from when it begins)."""
    if getattr(_local, "cleanup_until", None) is not None:
        yield
        return
    _local.cleanup_until = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.cleanup_until = None
