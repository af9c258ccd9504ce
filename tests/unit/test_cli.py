"""The command lines' usage errors: a misspelt simulator preset stops `python -m readiness demo` (and
`python -m crm_simulator`) with one line, a "did you mean" and where the list is, exit code 2, before anything starts."""

from __future__ import annotations

import pytest

from readiness import __main__ as cli


def test_a_misspelt_demo_preset_is_a_usage_error_naming_the_closest_preset(monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", lambda *args: pytest.fail("the demo must not start"))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["demo", "--preset", "helthy"])
    assert stopped.value.code == 2
    printed = capsys.readouterr().err
    assert "Traceback" not in printed
    assert printed.strip().splitlines()[-1] == ("python -m readiness demo: error: argument --preset: unknown simulator preset 'helthy' — did you "
                     "mean 'healthy'? (python -m crm_simulator --list-presets lists them)")


def test_a_preset_like_no_other_says_where_the_list_is(monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_demo", lambda *args: pytest.fail("the demo must not start"))
    with pytest.raises(SystemExit):
        cli.main(["demo", "--preset", "zzz"])
    assert capsys.readouterr().err.strip().endswith(
        "unknown simulator preset 'zzz' (python -m crm_simulator --list-presets lists them)")


def test_a_known_preset_starts_the_demo(monkeypatch):
    started = []
    monkeypatch.setattr(cli, "run_demo", lambda preset, extra: started.append((preset, extra)) or 0)
    assert cli.main(["demo", "--preset", "human-check", "--", "-q"]) == 0
    assert started == [("human-check", ["-q"])]
