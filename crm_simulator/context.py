"""What the views of both blueprints share: the simulated server of the request and the JSON errors.

``create_app`` keeps the ``ServerContext`` in ``app.extensions``; ``preset``, ``store`` and ``auth``
below reach it the way ``flask.request`` reaches the request (proxies, valid inside a request only).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from flask import current_app
from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .auth import AuthState
    from .presets import Preset
    from .store import Store

EXTENSION = "crm_simulator"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass
class ServerContext:
    """Everything one simulated server knows; one per Simulator."""

    preset: Preset
    store: Store
    auth: AuthState
    client_id: str | None  # None: no OAuth client registered
    client_secret: str | None
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the simulator stops


def server() -> ServerContext:
    """The simulated server that serves the current request."""
    return current_app.extensions[EXTENSION]


preset: Preset = LocalProxy(lambda: server().preset)  # type: ignore[assignment]
store: Store = LocalProxy(lambda: server().store)  # type: ignore[assignment]
auth: AuthState = LocalProxy(lambda: server().auth)  # type: ignore[assignment]


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def fail(status: int, message: str, error: str | None = None, hint: str | None = None) -> NoReturn:
    body: dict[str, Any] = {"message": message}
    if error:
        body["error"] = error
    if hint:
        body["hint"] = hint
    raise ApiError(status, body)


def deny(module: str, action: str) -> NoReturn:
    # [assumed] 403 body naming module and action, after Riva's "[Contacts:40] Access Denied"
    fail(403, "Access denied", "access_denied", f"[{module}:{action}]")
