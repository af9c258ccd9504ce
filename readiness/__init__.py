"""Riva readiness: the domain library behind the 1CRM readiness suite.

The pytest-bdd steps in ``steps/`` stay thin; everything that decides, talks HTTP or writes
a report lives here and is unit-tested without a server.
"""

__version__ = "0.1.0"
