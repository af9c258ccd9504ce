"""The requirement catalogue: stable IDs a change ticket can cite (see features/*.feature).

IDs are never renumbered; new requirements are added at the end of their step.
"""

from __future__ import annotations

from dataclasses import dataclass

STEPS = {
    1: "Confirm access from the Riva host",
    2: "Prepare the server",
    3: "Prepare the Riva connection user",
    4: "Prepare the target users",
    5: "Gather the connection information",
}


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    blocking: bool

    @property
    def step(self) -> int:
        return int(self.id[1:].split(".")[0])


_ALL = (
    Requirement("R1.1", "The CRM address accepts connections from this host", True),
    Requirement("R1.2", "TLS certificate and protocol", True),
    Requirement("R1.3", "The login page shows the 1CRM sign-in form", True),
    Requirement("R1.4", "The connection user signs in through the web login", True),
    Requirement("R1.5", "The REST API answers and the connection user authenticates", True),
    Requirement("R1.6", "Negative control: an unknown user is refused", True),
    Requirement("R2.1", "Version and edition", True),
    Requirement("R2.2", "The server sustains Riva's concurrency", True),
    Requirement("R2.3", "Memory sizing of the on-premise server", True),
    Requirement("R3.1", "The connection user exists and is an active, ordinary user", True),
    Requirement("R3.2", "The connection user is an administrator", True),
    Requirement("R3.3", "The connection user sees every target user", True),
    Requirement("R3.4", "The connection user is a dedicated service account", False),
    Requirement("R3.5", "The connection user's password does not expire soon", False),
    Requirement("R4.1", "The target list is present and well-formed", True),
    Requirement("R4.2", "Each target address matches exactly one active CRM user", True),
    Requirement("R4.3", "Each target user's role allows every synced datatype", True),
    Requirement("R4.4", "A target user can create, read, modify and delete records", True),
    Requirement("R4.5", "Records are owned by and attributed to the target user", True),
    Requirement("R5.1", "The CRM address is the address of the login window", True),
    Requirement("R5.2", "The connection user's credentials are configured", True),
    Requirement("R5.3", "A connection sheet for the Riva wizard is produced", True),
)

REQUIREMENTS: dict[str, Requirement] = {r.id: r for r in _ALL}


def requirement(req_id: str) -> Requirement:
    try:
        return REQUIREMENTS[req_id]
    except KeyError:
        raise KeyError(f"{req_id} is not in the requirement catalogue") from None
