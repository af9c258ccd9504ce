"""The readiness suite's entry point: its pytest plugin lives in the readiness package."""

pytest_plugins = ["readiness.plugin"]
