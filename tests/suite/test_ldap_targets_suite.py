"""The whole suite with its targets from a real OpenLDAP loaded with the simulator preset's directory
(Simulator.ldif()): GO on the healthy preset with no secret in any output, and R4.2's exact diagnosis where
the mailbox's primary SMTP address is only the CRM user's e-mail 2."""

from __future__ import annotations

import base64
import subprocess
import sys
from urllib.parse import quote

import pytest

from crm_simulator import Simulator
from crm_simulator.directory import group_dn
from ldap_server import READER_PASSWORD, SUFFIX, running_slapd
from readiness.__main__ import PROJECT_ROOT
from report_tools import embedded_files, report_generator_available
from suite_runner import QUICK_LOAD, run_suite

pytestmark = pytest.mark.slow


def suite_with_directory(tmp_path, preset: str, **simulator_options):
    with running_slapd(tmp_path / "slapd", page_size=10, tls=True) as slapd, \
            Simulator(preset, **simulator_options) as simulator:
        slapd.load(simulator.ldif(SUFFIX))
        # the targets file stays, for the probe users' passwords only: the directory names the mailboxes
        env = {**QUICK_LOAD, **simulator.env(), "READINESS_BROWSER": "off",
               **slapd.env(RIVA_TARGETS_LDAP_GROUP=group_dn(SUFFIX))}
        run = run_suite(env, tmp_path / "reports")
        run.simulator, run.env = simulator, env
        return run


def test_healthy_with_directory_targets_is_go_and_no_output_holds_a_secret(tmp_path):
    secrets = {"password": "Zebra-Password-31337", "client_secret": "Zebra-Client-Secret-31337"}
    run = suite_with_directory(tmp_path, "healthy", **secrets)
    assert run.report["verdict"] == "GO", run.output
    [listed] = [c for c in run.report["checks"] if c["id"] == "R4.1"]
    assert listed["status"] == "passed" and listed["message"].startswith(
        f"the directory's group {group_dn(SUFFIX)} (ldap://127.0.0.1:")
    assert ", StartTLS) has 2 mailboxes, 1 nested groups followed" in listed["message"]
    assert run.check("R4.2", "bob.baker@example.com")["message"].startswith(
        f"primary SMTP bob.baker@example.com (cn=mailbox 00001 bob.baker,ou=people,{SUFFIX}): matches exactly one")
    assert run.check("R4.4", "alice.archer@example.com")["status"] == "passed"  # probe users joined by address
    output = run.output
    if report_generator_available():
        made = subprocess.run([sys.executable, "-m", "readiness", "report", "--reports-dir", str(run.reports_dir)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stdout + made.stderr
        output += made.stdout + made.stderr
    values = [READER_PASSWORD, *secrets.values(), *run.simulator.issued_credentials(),
              *(v for k, v in run.env.items() if k.startswith("PROBE_"))]
    needles = [*values, *(quote(v, safe="") for v in values),
               base64.b64encode(f"riva_svc:{secrets['password']}".encode()).decode()]
    files = [p for p in run.reports_dir.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text += b"\n".join(embedded_files(text).values()).decode("utf-8", "replace")
        assert not [n for n in needles if n in text], f"secret in {path}"
    assert not [n for n in needles if n in output]


def test_a_primary_smtp_address_that_is_only_the_crm_users_email2_is_named_exactly(tmp_path):
    run = suite_with_directory(tmp_path, "target-secondary-email")
    assert run.report["verdict"] == "NO-GO"
    found = run.check("R4.2", "g.green@example.org")
    assert (found["status"], found["message"]) == ("failed", (
        f"primary SMTP g.green@example.org (cn=mailbox 00002 g.green,ou=people,{SUFFIX}): the CRM user gina.green "
        "(Gina Green) has gina.green@example.com as primary and g.green@example.org only as e-mail 2 — make "
        "g.green@example.org its primary e-mail"))
    assert run.statuses["R4.1"] == "passed"
