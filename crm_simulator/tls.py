"""Throw-away certificates for the simulator, one CA per Simulator (trustme).

``build_tls(kind, directory)`` returns the server's ``ssl.SSLContext`` and the path of the CA PEM
that clients should trust. For the ``untrusted`` kind that PEM is deliberately *not* the CA that
signed the server certificate, so verification fails the way an unknown issuer does.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import trustme

from .presets import CERT_EXPIRED, CERT_EXPIRING, CERT_UNTRUSTED, CERT_VALID, CERT_WRONG_HOST

SERVER_NAMES = ("localhost", "127.0.0.1")
WRONG_HOST_NAME = "crm.example.com"


class _LazyHandshakeContext(ssl.SSLContext):
    """Server context that defers the TLS handshake to the connection's own worker thread.

    werkzeug wraps the *listening* socket, so with the default ``do_handshake_on_connect=True``
    the handshake would run inside ``accept()`` on the single serving thread: one client that
    connects and sends nothing (a TCP reachability probe, a stalled client) would block every
    other client. Deferring it keeps the server responsive.
    """

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, **kwargs):
        return super().wrap_socket(
            sock, server_side=server_side, do_handshake_on_connect=False, **kwargs
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def build_tls(kind: str, directory: Path) -> tuple[ssl.SSLContext, Path]:
    """Create the certificate for ``kind`` and return (server context, CA bundle path)."""
    now = _now()
    trusted_ca = trustme.CA(organization_name="1CRM Simulator Test CA")
    signer = trusted_ca
    names: tuple[str, ...] = SERVER_NAMES
    not_before = now - dt.timedelta(days=1)
    not_after = now + dt.timedelta(days=365)

    if kind == CERT_VALID:
        pass
    elif kind == CERT_UNTRUSTED:
        signer = trustme.CA(organization_name="Unknown Issuer CA")
    elif kind == CERT_WRONG_HOST:
        names = (WRONG_HOST_NAME,)
    elif kind == CERT_EXPIRED:
        not_before = now - dt.timedelta(days=60)
        not_after = now - dt.timedelta(days=1)
    elif kind == CERT_EXPIRING:
        not_after = now + dt.timedelta(days=10)
    else:
        raise ValueError(f"Unknown certificate kind {kind!r}")

    leaf = signer.issue_cert(*names, not_before=not_before, not_after=not_after)

    context = _LazyHandshakeContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(context)

    ca_path = Path(directory) / "simulator-ca.pem"
    ca_path.write_bytes(trusted_ca.cert_pem.bytes())
    return context, ca_path
