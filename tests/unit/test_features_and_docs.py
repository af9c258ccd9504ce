"""The feature files, the requirement catalogue and env.example must never drift apart."""

from pathlib import Path

import pytest
from dotenv import dotenv_values
from gherkin.parser import Parser

from readiness.catalogue import REQUIREMENTS
from readiness.config import PLACEHOLDERS, SETTING_NAMES

ROOT = Path(__file__).resolve().parents[2]


def scenarios():
    for path in sorted((ROOT / "features").glob("*.feature")):
        feature = Parser().parse(path.read_text(encoding="utf-8"))["feature"]
        for child in feature["children"]:
            if "scenario" in child:
                yield path.name, child["scenario"]


def test_every_scenario_cites_one_catalogued_requirement_with_its_severity():
    seen = {}
    for file, scenario in scenarios():
        tags = {tag["name"].lstrip("@") for tag in scenario["tags"]}
        [requirement] = [t for t in tags if t in REQUIREMENTS]
        assert requirement not in seen, f"{requirement} has two scenarios ({seen[requirement]}, {file})"
        seen[requirement] = file
        expected = "blocking" if REQUIREMENTS[requirement].blocking else "advisory"
        assert tags & {"blocking", "advisory"} == {expected}, f"{requirement} in {file} must be @{expected}"
        assert scenario["name"].startswith(f"{requirement} "), scenario["name"]
        assert file.startswith(f"step{REQUIREMENTS[requirement].step}_")
    assert {"R1.1", "R1.2", "R1.3", "R1.4", "R1.5", "R1.6", "R5.1", "R5.2", "R5.3"} <= set(seen)


def test_env_example_documents_every_setting_and_nothing_else():
    text = (ROOT / "env.example").read_text(encoding="utf-8")
    values = dotenv_values(ROOT / "env.example")
    assert set(values) | {"READINESS_ENV_FILE"} == set(SETTING_NAMES)
    assert "# READINESS_ENV_FILE=" in text  # environment only: documented, commented out
    for name, placeholder in PLACEHOLDERS.items():
        assert values[name] == placeholder


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_env_example_explains_each_setting(name):
    """A comment stands above each setting (or above the group of settings it belongs to)."""
    lines = (ROOT / "env.example").read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.lstrip("# ").startswith(f"{name}="))
    above = next(line for line in reversed(lines[:index]) if "=" not in line or line.startswith("# "))
    assert above.startswith("# "), f"{name} has no explanation above it in env.example"
