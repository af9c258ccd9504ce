"""The simulator's capacity: a fixed number of request workers, like Apache's MaxRequestWorkers.

A request takes a free worker, holds it for the preset's service time and gives it back. While
every worker is busy it waits, at most ``queue_wait`` seconds, then is refused with 503 Service
Unavailable, as an overloaded Apache in front of PHP-FPM answers. With ``cpu_cores`` set, the busy
workers share that many cores: each request needs ``service_ms`` of CPU time and progresses more
slowly while more requests than cores are being served (processor sharing).
"""

from __future__ import annotations

import threading
import time

from .presets import Preset

_TICK = 0.005  # seconds: how finely shared CPU time is handed out
_REFUSED = (
    b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>503 Service Unavailable</title>\n'
    b"</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\n"
    b"request due to maintenance downtime or capacity problems. Please try again later.</p>\n</body></html>\n"
)


class _HeldReply:
    """Streams the reply and holds the worker until the server has written it all: WSGI servers call
    close() on every reply when they are done with it, whether it was sent, cut short or stalled."""

    def __init__(self, result, release):
        self._result = result
        self._release = release
        self._released = False

    def __iter__(self):
        return iter(self._result)

    def close(self) -> None:
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            if not self._released:
                self._released = True
                self._release()


class Capacity:
    """WSGI wrapper that serves at most ``max_request_workers`` requests at once."""

    def __init__(self, app, preset: Preset):
        self.app = app
        self.preset = preset
        self._workers = threading.BoundedSemaphore(preset.max_request_workers)
        self._lock = threading.Lock()
        self._busy = 0
        self.refused = 0

    def __call__(self, environ, start_response):
        if not self._workers.acquire(timeout=self.preset.queue_wait):
            with self._lock:
                self.refused += 1
            start_response("503 Service Unavailable", [("Content-Type", "text/html; charset=iso-8859-1"),
                                                       ("Content-Length", str(len(_REFUSED)))])
            return [_REFUSED]
        try:
            self._serve()
            result = self.app(environ, start_response)
        except BaseException:
            self._workers.release()
            raise
        return _HeldReply(result, self._workers.release)

    def _serve(self) -> None:
        """Holds the worker for the service time, stretched while the cores are shared."""
        seconds, cores = self.preset.service_ms / 1000, self.preset.cpu_cores
        if seconds <= 0:
            return
        if cores <= 0:
            time.sleep(seconds)
            return
        with self._lock:
            self._busy += 1
        try:
            while seconds > 0:
                with self._lock:
                    share = min(1.0, cores / self._busy)
                time.sleep(min(_TICK, seconds / share))
                seconds -= _TICK * share
        finally:
            with self._lock:
                self._busy -= 1
