"""One root cause, one finding, on the whole catalogue: the first check that failed of it says the cause and the
fix; each check it kept from running says "not checked: … failed first"; the verdict names the root cause first."""

import pytest


def readiness_summary(run) -> str:
    """The suite's own summary: pytest's per-test report around it keeps each test's words (in CI, untruncated)."""
    section = run.output[run.output.index("Riva readiness"):]
    return section.split("short test summary info")[0]


def grouped(run, root: str) -> list[str]:
    """The checks the run says were not checked because of `root`; every other finding that did not pass is
    the root itself or is returned as it was found."""
    dependents = [c for c in run.report["checks"] if c.get("because_of") == root]
    for check in dependents:
        assert (check["status"], check["message"]) == ("error", f"not checked: {root} failed first"), check
    return sorted({c["id"] for c in dependents})


@pytest.mark.parametrize("preset, overrides, root, words", [
    ("untrusted-cert", {}, "R1.2", "is not trusted from this host"),
    # plain http on the TLS port: the simulator answers as Apache's mod_ssl does, HTTP 400 "speaking plain HTTP"
    ("healthy", {"CRM_URL": lambda sim: sim.env()["CRM_URL"].replace("https://", "http://")}, "R1.2",
     "CRM_URL says http://, but localhost port"),
])
def test_a_tls_problem_is_one_finding_and_the_checks_it_kept_from_running_say_so(suite, preset, overrides, root, words):
    run = suite(preset, **overrides)
    finding = run.check(root)
    assert (finding["status"], finding["blocking"]) == ("failed", True) and words in finding["message"]
    assert grouped(run, root) == ["R1.3", "R1.4", "R1.5", "R1.6", "R2.1", "R2.2", "R3.1", "R3.2", "R3.3", "R3.4",
                                  "R3.5", "R4.2", "R4.3", "R4.4", "R4.5", "R5.3"]
    assert all(c["status"] in ("passed", "skipped") for c in run.report["checks"] if c["id"] not in (
        root, *grouped(run, root))), run.report["checks"]
    assert run.report["reasons"] == [f"{root} failed, so 14 checks could not run (R1.3, R1.4, R1.5, R1.6, R2.1, R2.2, "
                                     "R3.1, R3.2, R3.3, R4.2, R4.3, R4.4, R4.5, R5.3)"]
    assert "    NOT CHECKED, R1.2 failed first: R3.1, R3.2, R3.3, R3.4, R3.5" in run.output
    summary = readiness_summary(run)
    assert "certificate verify failed" not in summary and "HTTP 400" not in summary  # said once, by R1.2
    assert "NO REST API" not in summary  # a 400 is no sign that the server lacks the API


def test_a_refused_password_is_said_by_the_sign_ins_and_the_rest_is_not_checked(suite):
    run = suite("healthy", CRM_PASSWORD="not-the-password")
    assert run.check("R1.4")["message"].startswith(
        "the web login refused riva_svc: 'You must specify a valid username and password.' — check the user name and "
        "password (CRM_USERNAME, CRM_PASSWORD)")
    # the API sign-in is a check of its own: it tried the password too, and says the server's words
    assert run.check("R1.5")["status"] == "failed" and "the user name or password was refused" in run.check("R1.5")["message"]
    assert grouped(run, "R1.4") == ["R2.2", "R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R4.2", "R4.3", "R4.4", "R4.5"]
    assert run.report["reasons"][0] == ("R1.4 failed, so 8 checks could not run (R2.2, R3.1, R3.2, R3.3, R4.2, R4.3, "
                                        "R4.4, R4.5)")
    assert run.report["reasons"][1:] == ["R1.5 failed"]
    assert "0 requests in 0.0 s" not in readiness_summary(run)
