"""What the CRM's TLS endpoint presents, and whether Riva's host should trust it (R1.2)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from .config import CrmAddress
from .errors import TlsError
from .http import CrmSession
from .outcome import Outcome

EXPIRY_WARNING_DAYS = 30
MODERN_PROTOCOLS = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    not_after: datetime


@dataclass(frozen=True)
class TlsFacts:
    protocol: str | None
    certificate: Certificate | None
    error: str | None  # why verification failed; None when it succeeded


def inspect(session: CrmSession, crm: CrmAddress) -> TlsFacts:
    """One verified handshake through the suite's own session (so the proxy and CA bundle apply)."""
    try:
        response = session.get(f"{crm.base}/", stream=True, allow_redirects=False)
    except TlsError as exc:
        reason = str(exc).split(": ", 1)[-1]
        return TlsFacts(None, None if session.proxies else _unverified_certificate(crm, session.timeout), reason)
    try:
        sock = response.raw.connection.sock
        certificate = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
        return TlsFacts(sock.version(), _describe(certificate), None)
    finally:
        response.close()


def judge(facts: TlsFacts, crm: CrmAddress, now: datetime | None = None) -> Outcome:
    now = now or datetime.now(UTC)
    cert = facts.certificate
    evidence = {"protocol": facts.protocol, "error": facts.error}
    if cert:
        evidence.update(subject=cert.subject, issuer=cert.issuer, not_after=cert.not_after.isoformat())
    if facts.error:
        seen = f" (it names {cert.subject}, issued by {cert.issuer}, valid until {cert.not_after:%Y-%m-%d})" if cert else ""
        return Outcome.fail(
            f"the TLS certificate of {crm.host} is not trusted from this host: {facts.error}{seen} — "
            "install a certificate from a trusted CA for this host name, or give its CA in CRM_CA_BUNDLE",
            evidence=evidence)
    if facts.protocol not in MODERN_PROTOCOLS:
        return Outcome.fail(f"{crm.host} negotiated {facts.protocol}; TLS 1.2 or later is required", evidence=evidence)
    days = (cert.not_after - now).days
    if days < EXPIRY_WARNING_DAYS:
        return Outcome.fail(
            f"the TLS certificate of {crm.host} expires on {cert.not_after:%Y-%m-%d}, in {days} days — renew it "
            "before go-live", advisory=True, evidence=evidence)
    return Outcome.ok(
        f"the certificate of {crm.host} is trusted and valid until {cert.not_after:%Y-%m-%d} ({days} days), "
        f"issued by {cert.issuer}; protocol {facts.protocol}", evidence=evidence)


def plain_http(crm: CrmAddress) -> Outcome:
    return Outcome.fail(
        f"{crm.base} is plain http: the connection user's password travels in clear text, and 1CRM rejects "
        "non-TLS API calls by default — use an https:// address", advisory=True)


def _describe(certificate: x509.Certificate) -> Certificate:
    return Certificate(certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string(),
                       certificate.not_valid_after_utc)


def _unverified_certificate(crm: CrmAddress, timeout: float) -> Certificate | None:
    """The certificate as presented, read without trusting it: evidence for the failure message."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((crm.host, crm.port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=crm.host) as sock:
                return _describe(x509.load_der_x509_certificate(sock.getpeercert(binary_form=True)))
    except (OSError, ValueError):
        return None
