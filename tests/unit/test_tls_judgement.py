"""R1.2's judgement on what a TLS handshake showed, including what no local server can be made to offer."""

from datetime import UTC, datetime, timedelta

from readiness.config import parse_crm_address
from readiness.tls import Certificate, TlsFacts, judge

CRM = parse_crm_address("https://crm.example.com/1crm")
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def facts(protocol="TLSv1.3", days=200, error=None):
    return TlsFacts(protocol, Certificate("crm.example.com", "CN=Example CA", NOW + timedelta(days=days)), error)


def test_a_protocol_older_than_tls_1_2_fails_and_blocks():
    outcome = judge(facts(protocol="TLSv1.1"), CRM, NOW)
    assert not outcome.passed and not outcome.advisory
    assert "negotiated TLSv1.1; TLS 1.2 or later is required" in outcome.message


def test_expiry_within_30_days_is_advisory_and_31_days_passes():
    soon = judge(facts(days=29), CRM, NOW)
    assert not soon.passed and soon.advisory and "in 29 days" in soon.message
    assert judge(facts(days=31), CRM, NOW).passed


def test_an_untrusted_certificate_blocks_and_shows_what_was_presented():
    outcome = judge(facts(error="certificate verify failed: self-signed certificate"), CRM, NOW)
    assert not outcome.passed and not outcome.advisory
    assert "it is for crm.example.com, issued by CN=Example CA" in outcome.message
