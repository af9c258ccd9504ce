"""Impersonated probes (R4.4, R4.5): signed in as a target user, create, read, modify and delete
one marked record per datatype, and check who owns it and who the audit fields name.

Every probe record carries the marker and the run id in its title, so a sweep can find
leftovers of an interrupted run and touch nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from faker import Faker

from .client import CrmApi
from .errors import AccessDenied, AuthenticationFailed, CredentialsRefused, UnexpectedReply
from .ledger import Ledger, is_gone
from .outcome import Outcome
from .users import CrmUser

MARKER = "riva-readiness-probe"
DESCRIPTION = "Created by the Riva readiness suite to test a target user's rights; safe to delete."
PROBE_TITLE = re.compile(rf"^{MARKER} \d{{8}}T\d{{6}}Z-[0-9a-f]{{6}}$")  # MARKER + run id
TITLE_FIELDS = {"Contact": "last_name", "Lead": "last_name"}
DATETIME = "%Y-%m-%d %H:%M:%S"


def title_field(model: str) -> str:
    return TITLE_FIELDS.get(model, "name")


def is_probe_record(model: str, record: dict) -> bool:
    """Only records this suite made: the exact marker title and description."""
    return bool(PROBE_TITLE.match(str(record.get(title_field(model)) or ""))) and \
        str(record.get("description") or "").startswith(DESCRIPTION)


def probe_data(model: str, run_id: str, fake: Faker) -> dict:
    """Realistic data for one probe record; e-mail addresses are from reserved example domains."""
    data = {title_field(model): f"{MARKER} {run_id}", "description": f"{DESCRIPTION} Run {run_id}."}
    soon = fake.date_time_between(start_date="+1d", end_date="+30d").strftime(DATETIME)
    extra = {
        "Contact": {"first_name": fake.first_name(), "email1": fake.safe_email(), "phone_work": fake.phone_number()},
        "Lead": {"first_name": fake.first_name(), "email1": fake.safe_email(), "account_name": fake.company()},
        "Account": {"phone_office": fake.phone_number(), "website": f"https://{fake.domain_word()}.example.com"},
        "Meeting": {"date_start": soon, "duration_hours": "0", "duration_minutes": "30", "location": fake.city()},
        "Call": {"date_start": soon, "duration_hours": "0", "duration_minutes": "15", "direction": "Outbound"},
        "Task": {"date_due": soon, "priority": "Low", "status": "Not Started"},
        "Opportunity": {"amount": str(fake.random_int(1000, 90000)), "date_closed": soon[:10],
                        "sales_stage": "Prospecting"},
        "aCase": {"priority": "P3", "status": "New"},
        "Email": {"date_start": soon, "from_addr": fake.safe_email(), "to_addrs": fake.safe_email()},
    }
    return {**data, **extra.get(model, {})}


@dataclass(frozen=True)
class ProbeResult:
    model: str
    failure: str | None  # in Riva's terms: "cannot delete Meeting records: ..."
    created: dict | None = None  # the record as read back after create
    updated: dict | None = None  # ... and after modify


def probe(api: CrmApi, ledger: Ledger, model: str, run_id: str, fake: Faker) -> ProbeResult:
    """Create, read, modify and delete one record, as the signed-in target user."""
    step, created, updated = "create", None, None
    try:
        record_id = ledger.create(api, model, probe_data(model, run_id, fake))
        step = "read"
        created = api.read(model, record_id)
        step = "modify"
        api.update(model, record_id, {"description": f"{DESCRIPTION} Run {run_id}, modified."})
        updated = api.read(model, record_id)
        step = "delete"
        api.delete(model, record_id)
        if not is_gone(api, model, record_id):
            return ProbeResult(model, f"deleted a {model} record, but it can still be read", created, updated)
        ledger.settled(model, record_id)
    except AccessDenied as exc:
        return ProbeResult(model, f"cannot {step} {model} records: {exc}", created, updated)
    return ProbeResult(model, None, created, updated)


def sign_in_problem(api: CrmApi, variable: str) -> str | None:
    """Why the probe user cannot sign in to the REST API, naming the account (and the variable, if its password)."""
    try:
        api.me()
    except CredentialsRefused as exc:
        return f"{api.username} cannot sign in with the password in {variable}: {exc}"
    except AuthenticationFailed as exc:
        if api.auth_method == "HTTP Basic":  # [assumed] a refused Basic sign-in cannot say why: the password may be it
            return f"{api.username} cannot sign in with the password in {variable}: {exc}"
        return f"{api.username} cannot sign in to the REST API with {api.auth_method}: {exc}"
    except UnexpectedReply as exc:  # e.g. the sign-in was redirected: nothing was sent
        return f"{api.username} cannot sign in to the REST API with {api.auth_method}: {exc}"
    return None


def crud_outcome(address: str, user: CrmUser, results: list[ProbeResult]) -> Outcome:
    """R4.4"""
    failures = [r.failure for r in results if r.failure]
    if failures:
        return Outcome.fail(f"target user {user.user_name} " + "; ".join(failures), subject=address)
    return Outcome.ok(f"{user.user_name} created, read, modified and deleted a probe record of each of "
                      f"{len(results)} datatypes", subject=address)


def ownership_outcome(address: str, user: CrmUser, results: list[ProbeResult]) -> Outcome:
    """R4.5: the Enterprise Impersonation Model — owned by and attributed to the target user."""
    problems, checked = [], 0
    for result in results:
        if result.created is None or result.updated is None:
            continue
        checked += 1
        for label, record, name in (("assigned to", result.created, "assigned_user_id"),
                                    ("created by", result.created, "created_by"),
                                    ("modified by", result.updated, "modified_user_id")):
            if str(record.get(name)) != user.id:
                problems.append(f"the {result.model} probe record is {label} '{record.get(name)}', not {user.user_name}")
    if not checked:
        return Outcome.not_verifiable(f"no probe record of {user.user_name} could be created and modified (see R4.4)",
                                      subject=address)
    if problems:
        return Outcome.fail("; ".join(problems) + " — Riva's impersonation needs records owned by and attributed to "
                            "the target user", subject=address)
    skipped = len(results) - checked
    note = f" ({skipped} datatypes could not be probed, see R4.4)" if skipped else ""
    return Outcome.ok(f"{user.user_name}'s probe records of {checked} datatypes are assigned to, created by and "
                      f"modified by {user.user_name}{note}", subject=address)
