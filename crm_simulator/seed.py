"""The seed data, identical for every run of a preset: the known users and their passwords, the roles,
and Faker users and records drawn from generators seeded by the preset (see README.md, "Seed data").
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faker import Faker

from .acl import ACL_ACTIONS, ACL_DISABLED, ACL_OWNER, DEFAULT_ROLE, DEFAULT_ROLE_ID, role_rights
from .presets import Preset
from .schema import (
    ACLROLE_MODEL,
    DATETIME_FORMAT,
    FOLDER_MODEL,
    RECORD_MODELS,
    SECURITYGROUP_MODEL,
    USER_MODEL,
    Model,
    full_name,
    quote,
)

if TYPE_CHECKING:
    from .store import Store

# --------------------------------------------------------------------------------------------
# Well-known seed users (documented so that tests and demos can rely on them)
# --------------------------------------------------------------------------------------------

CONNECTION_USER = "riva_svc"
CONNECTION_PASSWORD = "Sim-Riva-Pass-1"
ADMIN_USER = "admin"
DUMMY_USER = "guest"  # who "signs in" on the accepts-any-login preset

#: user_name -> password of the seed users whose passwords are published (connection user aside).
KNOWN_PASSWORDS: dict[str, str] = {
    "admin": "Sim-Admin-Pass-1",
    "alice.archer": "Sim-Alice-Pass-1",
    "bob.baker": "Sim-Bob-Pass-1",
    "sam.support": "Sim-Sam-Pass-1",
    "rita.reader": "Sim-Rita-Pass-1",
    "mia.multi": "Sim-Mia-Pass-1",
}


ROLES: dict[str, tuple[str, dict[str, dict[str, int]]]] = {
    # The editable Default Role: what a role does not list, and what a user without a role gets.
    DEFAULT_ROLE: (
        "Applies to rights a role does not list and to users without a role.",
        role_rights(view=90, list=90, edit=90, delete=90, import_=90, export=90),
    ),
    "Sales": (
        "Full rights on every module Riva syncs.",
        role_rights(view=90, list=90, edit=90, delete=90, import_=90, export=90),
    ),
    # Support: no delete anywhere, Opportunities disabled, Accounts owner-only.
    "Support": (
        "Support staff: no delete, no Opportunities, own Accounts only.",
        role_rights(
            {
                "Opportunities": {"access": ACL_DISABLED},
                "Accounts": {"view": ACL_OWNER, "list": ACL_OWNER, "edit": ACL_OWNER},
            },
            view=90,
            list=90,
            edit=90,
            delete=-99,
            import_=90,
            export=90,
        ),
    ),
    "Read only": (
        "May look, may not touch.",
        role_rights(view=90, list=90, edit=-99, delete=-99, import_=-99, export=-99),
    ),
}


# team -> (members, roles): roles held through a team count like roles held directly (1crm-api.md §7)
TEAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Sales team": (("alice.archer", "bob.baker"), ("Sales",)),
    "Contractors": (("tina.team",), ("Read only",)),  # tina.team's only role comes through this team
}


@dataclass(frozen=True)
class SeedUser:
    user_name: str
    first_name: str
    last_name: str
    email1: str
    email2: str | None = None
    status: str = "Active"
    is_admin: str = "0"
    portal_only: str = "0"
    is_group: str = "0"
    roles: tuple[str, ...] = ()
    password: str | None = None  # None: a random one nobody knows


def _known(user_name: str, first: str, last: str, roles: tuple[str, ...]) -> SeedUser:
    """A target-like user with a published password and the e-mail <user_name>@example.com."""
    return SeedUser(user_name, first, last, f"{user_name}@example.com", roles=roles,
                    password=KNOWN_PASSWORDS[user_name])


FIXED_USERS: tuple[SeedUser, ...] = (
    SeedUser(CONNECTION_USER, "Riva", "Service", "riva_svc@example.com", is_admin="1", password=CONNECTION_PASSWORD),
    SeedUser(ADMIN_USER, "Ada", "Administrator", "admin@example.com", is_admin="1", password=KNOWN_PASSWORDS["admin"]),
    _known("alice.archer", "Alice", "Archer", ("Sales",)),
    _known("bob.baker", "Bob", "Baker", ("Sales",)),
    _known("sam.support", "Sam", "Support", ("Support",)),
    _known("rita.reader", "Rita", "Reader", ("Read only",)),
    # Two roles: the simulator lets the most restrictive right of "Sales" and "Read only" win ([assumed]).
    _known("mia.multi", "Mia", "Multi", ("Sales", "Read only")),
    # The user-matching diagnoses of R4.2, one user (or pair) each:
    SeedUser("dana.dormant", "Dana", "Dormant", "dana.dormant@example.com", status="Inactive", roles=("Sales",)),
    SeedUser("evan.exit", "Evan", "Exit", "evan.exit@example.com", status="Inactive"),
    SeedUser("support.team", "Support", "Team", "support.team@example.com", is_group="1"),
    SeedUser("paula.portal", "Paula", "Portal", "paula.portal@example.com", portal_only="1"),
    SeedUser("shared.one", "Shared", "One", "shared.mailbox@example.com", roles=("Sales",)),
    SeedUser("shared.two", "Shared", "Two", "shared.mailbox@example.com", roles=("Sales",)),
    SeedUser("gina.green", "Gina", "Green", "gina.green@example.com", email2="g.green@example.org", roles=("Sales",)),
    SeedUser("henry.hill", "Henry", "Hill", "Henry.Hill@Example.com", roles=("Sales",)),
    SeedUser("ivan.info", "Ivan", "Info", "ivan.info@example.com", status="Info Only", roles=("Sales",)),
    SeedUser("tina.team", "Tina", "Team", "tina.team@example.com"),  # no role of her own: see TEAMS
    SeedUser("nora.norole", "Nora", "Norole", "nora.norole@example.com"),  # no role, no team: the Default Role
)
RECORDS_PER_MODEL = 20
# Seed records are assigned round-robin to these owners (then to the first faker users).
RECORD_OWNERS = ("alice.archer", "bob.baker", "sam.support", "rita.reader", "admin", "riva_svc")
_SEED_EPOCH = dt.datetime(2024, 1, 2, 9, 0, 0)
FOLDERS = ("Inbox", "Sent Items", "Archive")  # [assumed] every user's e-mail folders
_FOLDER_IDS = uuid.UUID("6f1d5c3e-6a52-4c8e-9a57-1c2d3e4f5a6b")  # folder ids derive from it: no draw from the rng


class _Seeder:
    """Fills a fresh Store. Every random choice comes from generators seeded by the preset."""

    def __init__(self, store: Store, preset: Preset, connection_password: str):
        self.store = store
        self.preset = preset
        self.connection_password = connection_password
        self.rng = random.Random(preset.seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(preset.seed)
        self.user_ids: dict[str, str] = {}
        self.account_ids: list[str] = []  # what seeded Opportunities and Projects point to, in turn
        self.references = 0

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self, start_days: int = 0, span_days: int = 300) -> str:
        moment = _SEED_EPOCH + dt.timedelta(
            days=start_days + self.rng.randrange(span_days), seconds=self.rng.randrange(86400)
        )
        return moment.strftime(DATETIME_FORMAT)

    def run(self) -> None:
        extra = self.faker_users()
        self.store.faker_mailboxes = [u.email1 for u in extra]  # in seed order: the bulk targets of large presets
        users = list(FIXED_USERS) + extra
        if self.preset.accepts_any_login:
            users.append(SeedUser(DUMMY_USER, "Guest", "User", "guest@example.com"))
        for seed_user in users:
            self.add_user(seed_user)
        self.apply_overrides()
        roles = dict(ROLES)
        for number in range(1, self.preset.extra_full_roles + 1):
            roles[f"Team {number:02d}"] = ("A sales team with every right.", ROLES["Sales"][1])
        role_ids = {name: self.add_role(name, desc, self.rights_of(name, rights)) for name, (desc, rights) in roles.items()}
        for seed_user in users:
            for role in seed_user.roles:
                self.store._insert(
                    "acl_roles_users",
                    {"id": self.new_id(), "role_id": role_ids[role], "user_id": self.user_ids[seed_user.user_name]},
                )
        for team, (members, team_roles) in TEAMS.items():
            self.add_team(team, [self.user_ids[m] for m in members], [role_ids[r] for r in team_roles])
        owners = [self.user_ids[u] for u in RECORD_OWNERS]
        owners += [self.user_ids[u.user_name] for u in users[len(FIXED_USERS):][:4] if u.status == "Active"]
        for seed_user in users if self.preset.email_folders else ():
            self.add_folders(self.user_ids[seed_user.user_name])
        for model in RECORD_MODELS:
            for index in range(RECORDS_PER_MODEL):
                self.add_record(model, owners[index % len(owners)])

    def next_account(self) -> str:
        self.references += 1
        return self.account_ids[self.references % len(self.account_ids)]

    @staticmethod
    def folder_id(user_id: str, name: str) -> str:
        return str(uuid.uuid5(_FOLDER_IDS, f"{user_id}/{name}"))

    def add_folders(self, user_id: str) -> None:
        for name in FOLDERS:
            self.store._insert(FOLDER_MODEL.table, {
                "id": self.folder_id(user_id, name), "name": name, "assigned_user_id": user_id, "deleted": "0",
                "date_entered": _SEED_EPOCH.strftime(DATETIME_FORMAT), "date_modified": _SEED_EPOCH.strftime(DATETIME_FORMAT)})

    def faker_users(self) -> list[SeedUser]:
        taken = {u.user_name for u in FIXED_USERS}
        result = []
        teams = [f"Team {n:02d}" for n in range(1, self.preset.extra_full_roles + 1)]
        while len(result) < self.preset.faker_users:
            first, last = self.fake.first_name(), self.fake.last_name()
            user_name = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
            if user_name in taken:
                continue
            taken.add(user_name)
            email2 = f"{first[0]}.{last}@{self.fake.free_email_domain()}".lower() if self.rng.random() < 0.3 else None
            role = teams[len(result) % len(teams)] if teams else self.rng.choice(["Sales", "Sales", "Support", "Read only", None])
            result.append(
                SeedUser(
                    user_name,
                    first,
                    last,
                    f"{user_name}@example.com",
                    email2=email2,
                    roles=(role,) if role else (),
                )
            )
        return result

    def add_user(self, seed_user: SeedUser) -> None:
        user_id = self.new_id()
        self.user_ids[seed_user.user_name] = user_id
        entered = self.stamp(span_days=30)
        creator = self.user_ids.get(ADMIN_USER, user_id)
        self.store._insert(
            USER_MODEL.table,
            {
                "id": user_id,
                "user_name": seed_user.user_name,
                "name": full_name(seed_user.first_name, seed_user.last_name),
                "first_name": seed_user.first_name,
                "last_name": seed_user.last_name,
                "email1": seed_user.email1,
                "email2": seed_user.email2,
                "status": seed_user.status,
                "is_admin": seed_user.is_admin,
                "portal_only": seed_user.portal_only,
                "is_group": seed_user.is_group,
                "deleted": "0",
                "date_entered": entered,
                "date_modified": entered,
                "created_by": creator,
                "modified_user_id": creator,
            },
        )
        if seed_user.user_name == CONNECTION_USER:
            password = self.connection_password
        else:
            # Unknown passwords must still not depend on the process: draw them from the seeded rng.
            password = seed_user.password or f"unknown-{self.rng.getrandbits(64):x}"
        self.store._set_password(user_id, password, self.rng.getrandbits(64).to_bytes(8, "big"))

    def rights_of(self, role: str, rights: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """The role's rights with the preset's changes applied (a copy: ROLES stays untouched)."""
        changed = {module: dict(actions) for module, actions in rights.items()}
        for module, actions in self.preset.role_overrides.get(role, {}).items():
            for action, level in actions.items():
                if level is None:
                    changed[module].pop(action, None)  # the role no longer lists it: the Default Role applies
                else:
                    changed[module][action] = level
        return changed

    def apply_overrides(self) -> None:
        if self.preset.password_expires_in_days is not None:
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=self.preset.password_expires_in_days)).date()
            self.store._db.execute(
                f"UPDATE {quote(USER_MODEL.table)} SET password_expires = ? WHERE user_name = ?",
                (expires.isoformat(), CONNECTION_USER),
            )
        for user_name, changes in self.preset.user_overrides.items():
            for name, value in changes.items():
                if USER_MODEL.field(name) is None or name == "id":
                    raise ValueError(f"Preset {self.preset.name}: unknown user field {name!r}")
                self.store._db.execute(
                    f"UPDATE {quote(USER_MODEL.table)} SET {quote(name)} = ? WHERE user_name = ?",
                    (value, user_name),
                )

    def add_team(self, name: str, member_ids: list[str], role_ids: list[str]) -> None:
        team_id, stamp = self.new_id(), self.stamp(span_days=10)
        self.store._insert(SECURITYGROUP_MODEL.table, {"id": team_id, "name": name, "description": None,
                                                       "deleted": "0", "date_entered": stamp, "date_modified": stamp})
        for user_id in member_ids:
            self.store._insert("securitygroups_users", {"id": self.new_id(), "group_id": team_id, "user_id": user_id})
        for role_id in role_ids:
            self.store._insert("securitygroups_acl_roles", {"id": self.new_id(), "group_id": team_id,
                                                            "role_id": role_id})

    def add_role(self, name: str, description: str, rights) -> str:
        role_id = DEFAULT_ROLE_ID if name == DEFAULT_ROLE else self.new_id()
        stamp = self.stamp(span_days=10)
        self.store._insert(
            ACLROLE_MODEL.table,
            {"id": role_id, "name": name, "description": description, "deleted": "0",
             "date_entered": stamp, "date_modified": stamp},
        )
        for module, actions in rights.items():
            for action in ACL_ACTIONS:
                if action in actions:
                    self.store._insert(
                        "acl_role_actions",
                        {"id": self.new_id(), "role_id": role_id, "category": module,
                         "acltype": "module", "name": action, "aclaccess": actions[action]},
                    )
        return role_id

    def add_record(self, model: Model, owner_id: str) -> None:
        fake, rng = self.fake, self.rng
        entered = self.stamp(start_days=30)
        values: dict[str, Any] = {}
        if model.person:
            first, last = fake.first_name(), fake.last_name()
            values.update(
                first_name=first,
                last_name=last,
                name=full_name(first, last),
                salutation=rng.choice(["Mr.", "Ms.", "Mrs.", "Dr.", None]),
                title=fake.job(),
                email1=f"{first}.{last}@{fake.domain_name()}".lower().replace("'", ""),
                phone_work=fake.phone_number(),
            )
        if model.name == "Lead":
            values.update(
                account_name=fake.company(),
                status=rng.choice(["New", "Assigned", "In Process", "Converted"]),
                lead_source=rng.choice(["Web Site", "Cold Call", "Trade Show", "Email"]),
            )
        elif model.name == "Account":
            values.update(
                name=fake.company(),
                industry=rng.choice(["Technology", "Retail", "Finance", "Manufacturing", "Healthcare"]),
                phone_office=fake.phone_number(),
                website=fake.url(),
                email1=fake.company_email(),
            )
        elif model.name in ("Meeting", "Call"):
            values.update(
                name=(f"Meeting: {fake.catch_phrase()}" if model.name == "Meeting" else f"Call with {fake.name()}"),
                date_start=self.stamp(start_days=60),
                duration=str(rng.choice([15, 30, 45, 60, 90])),
                status=rng.choice(["Planned", "Held", "Not Held"]),
            )
            if model.name == "Meeting":
                values["location"] = fake.city()
            else:
                values["direction"] = rng.choice(["Inbound", "Outbound"])
        elif model.name == "Task":
            values.update(
                name=fake.sentence(nb_words=4).rstrip("."),
                date_due=self.stamp(start_days=60),
                priority=rng.choice(["P2", "P1", "P0"]),
                status=rng.choice(["Not Started", "In Progress", "Completed"]),
            )
        elif model.name == "Note":
            values.update(name=fake.sentence(nb_words=5).rstrip("."))
        elif model.name == "Email":
            values.update(
                name=fake.sentence(nb_words=6).rstrip("."),
                date_start=self.stamp(start_days=30),
                from_addr=fake.company_email(),
                to_addrs=fake.company_email(),
                type="archived",
                folder_ref=self.folder_id(owner_id, "Archive"),
            )
        elif model.name == "Opportunity":
            values.update(
                name=f"{fake.company()} - {fake.word().capitalize()}",
                amount=f"{rng.randrange(1000, 200000)}.00",
                sales_stage=rng.choice(["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won"]),
                probability=str(rng.choice([10, 25, 50, 75, 90])),
                date_closed=self.stamp(start_days=120)[:10],
                account=self.next_account(),
            )
        elif model.name == "aCase":
            values.update(
                name=fake.sentence(nb_words=5).rstrip("."),
                status=rng.choice(["Active - New", "Active - Assigned", "Pending", "Closed - Complete"]),
                priority=rng.choice(["P1", "P2", "P3"]),
            )
        elif model.name == "Project":
            start = self.stamp(start_days=30)
            values.update(
                name=f"{fake.bs().title()}",
                date_starting=start[:10],
                date_ending=self.stamp(start_days=200)[:10],
                project_phase=rng.choice(["Active - Starting Soon", "Active - In Progress", "Closed - Complete"]),
                account=self.next_account(),
            )
        values["description"] = fake.paragraph(nb_sentences=2)
        row = {f.name: None for f in model.stored_fields}
        row.update(values)
        row.update(
            id=self.new_id(),
            deleted="0",
            date_entered=entered,
            date_modified=entered,
            assigned_user_id=owner_id,
            created_by=owner_id,
            modified_user_id=owner_id,
        )
        if model.name == "Account":
            self.account_ids.append(row["id"])
        self.store._insert(model.table, row)

