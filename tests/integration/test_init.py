"""`python -m readiness init`: scripted answers on stdin, secrets through getpass, against the in-process simulator."""

from __future__ import annotations

import getpass
import io
import re
import sys

import pytest

from crm_simulator import Simulator
from readiness import __main__ as cli
from readiness import init_env
from readiness.config import load_settings, read_env_file


@pytest.fixture
def healthy():
    with Simulator("healthy") as simulator:
        yield simulator


class Console:
    """Scripted stdin for the questions; getpass answers by the variable its prompt asks for, and records it."""

    def __init__(self, monkeypatch, lines: list[str], secrets: dict[str, list[str]]):
        self.secret_prompts: list[str] = []
        self.secrets = {name: list(values) for name, values in secrets.items()}
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        monkeypatch.setattr(getpass, "getpass", self.getpass)

    def getpass(self, prompt: str = "Password: ", stream=None) -> str:
        self.secret_prompts.append(prompt)
        probe = re.search(r"\((PROBE_\w+)\)", prompt)
        name = probe.group(1) if probe else {"Its password": "CRM_PASSWORD",
                                             "Its client secret": "CRM_CLIENT_SECRET"}[prompt.split(" (")[0]]
        return self.secrets[name].pop(0)


def secrets_of(sim: Simulator, **wrong: list[str]) -> dict[str, list[str]]:
    env = sim.env()
    values = {name: [value] for name, value in env.items() if name.endswith("_PASSWORD") or name == "CRM_CLIENT_SECRET"}
    return {**values, **wrong}


def answers_for(sim: Simulator, *, url: list[str] | None = None, ca: list[str] | None = None) -> list[str]:
    env = sim.env()
    return [*(url or [sim.url]), "riva_svc", env["CRM_CLIENT_ID"], *(ca or [sim.ca_bundle]), "",
            env["RIVA_TARGETS_FILE"], "", "CHG-1234"]


def test_init_asks_for_each_setting_rechecks_bad_answers_writes_env_and_checks_the_connection(
        healthy, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    console = Console(monkeypatch, answers_for(healthy, url=["crm.example.com", healthy.url],
                                               ca=[str(tmp_path / "missing.pem"), healthy.ca_bundle]),
                      secrets_of(healthy, CRM_PASSWORD=["", healthy.password]))
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert "  CRM_URL='crm.example.com' has no scheme — write it as https://crm.example.com" in out  # asked again
    assert "no such file" in out and "missing.pem" in out
    assert "CRM_PASSWORD is needed — please give it" in out
    assert re.search(r"ok {3}R1\.1 localhost \(127\.0\.0\.1\) accepted a connection", out)
    assert re.search(r"ok {3}R1\.2 the certificate of localhost is trusted", out)
    assert re.search(r"ok {3}R1\.5 the REST API at .* answers", out)
    assert "Next: python -m pytest" in out and "reports/readiness-summary.html" in out
    probe_variables = [n for n in healthy.env() if n.startswith("PROBE_")]
    assert probe_variables and len(console.secret_prompts) == 3 + len(probe_variables)  # one retry of the password
    written = load_settings({}, env_file=tmp_path / ".env")  # read back by the suite's own loader
    assert written.crm.base == healthy.url and written.connection_user.password.reveal() == healthy.password
    assert written.client_secret.reveal() == healthy.client_secret and written.change_ticket == "CHG-1234"
    assert [t.password_env for t in written.targets if t.password_env] == probe_variables
    for secret in [healthy.password, healthy.client_secret, *(healthy.env()[n] for n in probe_variables)]:
        assert secret not in out
    if sys.platform != "win32":
        assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # readable by this user only


def test_init_never_overwrites_an_env_file_without_force(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CRM_URL=https://kept.example.com\n", encoding="utf-8")
    assert cli.main(["init"]) == 4
    assert "exists — edit it, or run python -m readiness init --force" in capsys.readouterr().out
    assert (tmp_path / ".env").read_text(encoding="utf-8") == "CRM_URL=https://kept.example.com\n"


def test_with_force_a_wrong_password_is_written_and_the_check_says_what_failed(healthy, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CRM_URL=https://old.example.com\n", encoding="utf-8")
    Console(monkeypatch, answers_for(healthy), secrets_of(healthy, CRM_PASSWORD=["Not-The-Pa55word"]))
    assert cli.main(["init", "--force"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"FAIL R1\.5 riva_svc cannot sign in to the REST API", out)
    assert re.search(r"ok {3}R1\.3 .*login\.php shows the 1CRM sign-in form", out)  # the address itself is right
    assert "Fix what failed" in out and "Not-The-Pa55word" not in out
    assert load_settings({}, env_file=tmp_path / ".env").crm.base == healthy.url


def test_stopping_midway_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    Console(monkeypatch, ["https://crm.example.com"], {})  # then end of input
    assert cli.main(["init"]) == 4
    assert "nothing written" in capsys.readouterr().out and not (tmp_path / ".env").exists()


def test_values_with_quotes_hashes_and_backslashes_read_back_exactly(tmp_path):
    nasty = "p#ss w'o\"rd\\n $HOME ${X} `x`"
    init_env.write_env(tmp_path / ".env", {"CRM_URL": "https://crm.example.com", "CRM_PASSWORD": nasty})
    assert read_env_file(tmp_path / ".env")["CRM_PASSWORD"][0] == nasty


def test_a_bad_targets_file_is_asked_again_with_the_loaders_reason(monkeypatch, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("mail\nanna@example.com\n", encoding="utf-8")
    good = tmp_path / "targets.csv"
    good.write_text("email,password_env\nanna@example.com,PROBE_ANNA_PASSWORD\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    Console(monkeypatch, ["https://crm.example.com", "riva_svc", "", "", "", str(bad), str(good), "", ""],
            {"CRM_PASSWORD": ["Secret-1"], "PROBE_ANNA_PASSWORD": ["Secret-2"]})
    answers = init_env.ask_all(init_env.Prompter())
    assert "no 'email' column in the header" in capsys.readouterr().out
    assert answers == {"CRM_URL": "https://crm.example.com", "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "Secret-1",
                       "RIVA_TARGETS_FILE": str(good), "PROBE_ANNA_PASSWORD": "Secret-2"}
