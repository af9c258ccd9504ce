"""R2.1: version strings as real servers write them, hosted or on-premise, and the 5.3.3 rule."""

from __future__ import annotations

import pytest
from packaging.version import Version

from crm_simulator import Simulator
from readiness.config import load_settings, parse_crm_address
from readiness.run import ReadinessRun
from readiness.server_info import ServerInfo, is_hosted, judge, parse_version


@pytest.mark.parametrize(
    "text, shown, number, product",
    [
        ("8.7.7-318", "8.7.7-318", "8.7.7", "1CRM"),  # a build number after the release
        ("5.3.3", "5.3.3", "5.3.3", "info@hand"),  # before 7, the product was info@hand
        ("info@hand 6.0.2", "6.0.2", "6.0.2", "info@hand"),
        ("1CRM 9.0 Enterprise Edition", "9.0", "9.0", "1CRM"),
        ("v8.6.5", "8.6.5", "8.6.5", "1CRM"),
    ],
)
def test_real_world_version_strings_are_understood(text, shown, number, product):
    release = parse_version(text)
    assert (release.text, release.number, release.product) == (shown, Version(number), product)


@pytest.mark.parametrize("text", [None, "", "   ", "garbage", "trunk-build", "8", "Build 2024.10", "unknown-1.x"])
def test_missing_or_garbage_versions_are_not_guessed(text):
    assert parse_version(text) is None


@pytest.mark.parametrize(
    "version, passed",
    [("5.3.3", True), ("5.3.10", True), ("6.0.2", True), ("7.0", True), ("8.7.7-318", True), ("9.1", True),
     ("5.3.2", False), ("5.2.1", False), ("4.5", False)],
)
def test_on_premise_needs_info_at_hand_5_3_3_or_later(version, passed):
    outcome = judge(ServerInfo(version, "Enterprise", False, "GET /api.php/version"))
    assert outcome.passed is passed
    if not passed:
        assert "older than info@hand 5.3.3, the oldest on-premise release Riva supports" in outcome.message


def test_releases_compare_as_versions_not_as_text():
    assert parse_version("5.10.0").number > parse_version("5.3.3").number  # text order would say otherwise


def test_an_on_premise_server_without_a_readable_version_fails_with_the_reason():
    outcome = judge(ServerInfo(None, None, False, "GET /api.php/version gave 'trunk-build', which is not a version"))
    assert not outcome.passed
    assert "could not be determined (GET /api.php/version gave 'trunk-build'" in outcome.message


@pytest.mark.parametrize("version", ["5.2.1", None])
def test_hosted_services_pass_in_every_edition_and_version(version):
    outcome = judge(ServerInfo(version, None, True, "the About page"))
    assert outcome.passed and "hosted service" in outcome.message


@pytest.mark.parametrize(
    "url, hosted",
    [("https://acme.1crmcloud.com", True), ("https://acme.infoathand.com/crm", True),
     ("https://crm.acme.com", False), ("https://1crmcloud.com.evil.example", False)],
)
def test_hosted_is_told_from_on_premise_by_the_host_name(url, hosted):
    assert is_hosted(parse_crm_address(url)) is hosted


@pytest.mark.parametrize(
    "preset, version, product",
    [("healthy", "8.7.7", "1CRM"), ("old-version", "5.2.1", "info@hand"), ("unparseable-version", None, None)],
)
def test_detection_against_the_simulator(preset, version, product):
    with Simulator(preset) as simulator:
        run = ReadinessRun(load_settings({**simulator.env(), "READINESS_ENV_FILE": "none"}))
        server = run.server
        run.close()
    assert server.version == version
    assert (server.release.product if server.release else None) == product
    if version is None:  # neither the API nor the About page gave a version: the source says why
        assert "GET /api.php/version gave 'trunk-build', which is not a version number" in server.source
        assert "the About page shows no version" in server.source
