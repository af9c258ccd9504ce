"""What the CRM's TLS endpoint presents, and whether Riva's host should trust it (R1.2)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import requests
from cryptography import x509
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import make_headers

from . import root_causes
from .config import CrmAddress
from .errors import TlsError
from .outcome import Outcome

EXPIRY_WARNING_DAYS = 30
MODERN_PROTOCOLS = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class Certificate:
    names: str  # the host names it is valid for (subject alternative names, else the subject)
    issuer: str
    not_after: datetime


@dataclass(frozen=True)
class TlsFacts:
    protocol: str | None
    certificate: Certificate | None
    error: str | None  # why verification failed; None when it succeeded


def inspect(crm: CrmAddress, *, verify: str | bool, proxy: str | None, timeout: float) -> TlsFacts:
    """A TLS handshake with the CRM (through the proxy's tunnel if any), verified as the suite's
    requests are; when verification fails, a second, unverified one shows what was presented."""
    try:
        protocol, der = _handshake(crm, proxy, timeout, ca_certs=_ca_file(verify))
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        try:
            _, der = _handshake(crm, proxy, timeout, ca_certs=None)
            presented = _describe(x509.load_der_x509_certificate(der))
        except (OSError, ValueError):
            presented = None
        return TlsFacts(None, presented, reason)
    except OSError as exc:
        root_causes.met(root_causes.CONNECTION)  # no connection at all (R1.1 says why)
        raise TlsError(f"no TLS session with {crm.host}:{crm.port}: {exc.strerror or exc}") from None
    return TlsFacts(protocol, _describe(x509.load_der_x509_certificate(der)), None)


def judge(facts: TlsFacts, crm: CrmAddress, now: datetime | None = None) -> Outcome:
    now = now or datetime.now(UTC)
    cert = facts.certificate
    evidence = {"protocol": facts.protocol, "error": facts.error}
    if cert:
        evidence.update(names=cert.names, issuer=cert.issuer, not_after=cert.not_after.isoformat())
    if facts.error:
        root_causes.met(root_causes.TLS)  # every later request is refused the same way
        seen = f" (it is for {cert.names}, issued by {cert.issuer}, valid until {cert.not_after:%Y-%m-%d})" if cert else ""
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


def plain_http(crm: CrmAddress, *, proxy: str | None, timeout: float) -> Outcome:
    """R1.2 of an http:// address: advisory, unless its port speaks TLS (then no plain http request gets an answer)."""
    if not proxy and _speaks_tls(crm, timeout):
        root_causes.met(root_causes.ADDRESS)  # every later request goes to the TLS port in plain http
        https = crm.base.replace("http://", "https://", 1)
        return Outcome.fail(f"CRM_URL says http://, but {crm.host} port {crm.port} speaks TLS: plain http requests "
                            f"are refused or dropped there — use {https}")
    return Outcome.fail(
        f"{crm.base} is plain http: the connection user's password travels in clear text, and 1CRM rejects "
        "non-TLS API calls by default — use an https:// address", advisory=True)


def _speaks_tls(crm: CrmAddress, timeout: float) -> bool:
    try:
        _handshake(crm, None, timeout, ca_certs=None)
        return True
    except OSError:  # ssl.SSLError included: a plain http server, or nothing at all (R1.1 says which)
        return False


def verified_certificate(crm: CrmAddress, *, verify: str | bool, proxy: str | None, timeout: float) -> bytes | None:
    """The CRM's certificate (DER) when it verifies as R1.2 verifies it (trust, host name, dates); else None."""
    try:
        return _handshake(crm, proxy, timeout, ca_certs=_ca_file(verify))[1]
    except OSError:  # ssl.SSLError included: not verified, so nothing to vouch for
        return None


def _describe(certificate: x509.Certificate) -> Certificate:
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in alternative.get_values_for_type(x509.DNSName)]
        names += [str(n) for n in alternative.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return Certificate(", ".join(names) or certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string(),
                       certificate.not_valid_after_utc)


def _ca_file(verify: str | bool) -> str:
    """The same trust anchors as the suite's requests: the configured bundle, else requests' own."""
    return verify if isinstance(verify, str) else requests.certs.where()


def _handshake(crm: CrmAddress, proxy: str | None, timeout: float, *, ca_certs: str | None) -> tuple[str, bytes]:
    """(negotiated protocol, certificate in DER); ca_certs None means: do not verify."""
    verify = dict(cert_reqs="CERT_REQUIRED", ca_certs=ca_certs) if ca_certs else dict(cert_reqs="CERT_NONE",
                                                                                      assert_hostname=False)
    if proxy:
        via = urlsplit(proxy)
        connection = HTTPSConnection(via.hostname, via.port or 80, timeout=timeout, **verify)
        auth = f"{unquote(via.username)}:{unquote(via.password or '')}" if via.username else None
        connection.set_tunnel(crm.host, crm.port, headers=make_headers(proxy_basic_auth=auth) if auth else None)
    else:
        connection = HTTPSConnection(crm.host, crm.port, timeout=timeout, **verify)
    try:
        connection.connect()
        return connection.sock.version(), connection.sock.getpeercert(binary_form=True)
    except NameResolutionError:
        raise OSError(f"the host name {connection.host} does not resolve") from None
    except NewConnectionError as exc:  # urllib3's errors are no OSError: say it as one, in one sentence
        cause = exc.__cause__
        raise OSError(getattr(cause, "strerror", None) or str(cause or exc)) from None
    except ConnectTimeoutError:
        raise TimeoutError(f"no connection within {timeout:g} s") from None
    finally:
        connection.close()
