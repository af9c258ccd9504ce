"""A built-in 1CRM server simulator for demos and for the project's own tests.

    from crm_simulator import Simulator, PRESETS

    with Simulator("healthy") as sim:
        sim.url, sim.ca_bundle, sim.env(), sim.stats

Each preset in ``PRESETS`` is a whole server state (one misconfiguration each); the REST API and
web login follow shared/reference/1crm-api.md. Run ``python -m crm_simulator --list-presets``.
"""

from .presets import PRESETS, Preset
from .server import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, Simulator, Stats
from .seed import CONNECTION_PASSWORD, CONNECTION_USER, KNOWN_PASSWORDS

__all__ = [
    "Simulator",
    "Stats",
    "PRESETS",
    "Preset",
    "CONNECTION_USER",
    "CONNECTION_PASSWORD",
    "KNOWN_PASSWORDS",
    "OAUTH_CLIENT_ID",
    "OAUTH_CLIENT_SECRET",
]
