"""Impersonated probes (R4.4, R4.5): signed in as a target user, create, read, modify and delete
one marked record per datatype, and check who owns it and who the audit fields name.

Each probe record is built from the server's own field metadata (payloads.py) and carries the run's
mark (markers.py). Nothing is modified or deleted before a read shows that mark: a create reply that
names another record is a finding, and that record is left as it was.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from .client import CrmApi
from .errors import AccessDenied, AuthenticationFailed, CredentialsRefused, CrmError, NotFound, Refused, UnexpectedReply
from .fields_meta import FieldsMeta
from .ledger import Ledger, is_gone
from .markers import DESCRIPTION, MARKER, PROBE_TITLE, Marker, is_probe_record, marker_fields, title_field
from .outcome import Outcome
from .payloads import build_payload, references
from .roles import MODULES
from .users import CrmUser

__all__ = ["DESCRIPTION", "MARKER", "PROBE_TITLE", "ProbeResult", "Prober", "is_probe_record", "title_field"]
NOT_RIGHTS = "a probe design problem or a server customisation, not missing rights"
FOLDER_MODEL = "EmailFolder"  # [assumed] how the API lists e-mail folders; the contract does not say
# 1crm-api.md §0 [known]: Riva acts as each user without its password, through a mechanism the suite cannot use
OWN_PASSWORD = ("the probes sign in with the user's own password, because the suite cannot use Riva's impersonation "
                "mechanism; that exercises the same per-user permissions and audit attribution")


@dataclass(frozen=True)
class ProbeResult:
    model: str
    failure: str | None  # in Riva's terms: "target user alice cannot delete Meeting records: ..."
    created: dict | None = None  # the record as read back after create (only a record with the probe's mark)
    updated: dict | None = None  # ... and after modify
    not_verifiable: str | None = None  # why this datatype could not be probed at all
    notes: tuple[str, ...] = ()  # how the record was built, for the evidence


class _Finding(Exception):
    def __init__(self, message: str, *, verifiable: bool = True):
        super().__init__(message)
        self.verifiable = verifiable


class Prober:
    """Probes datatypes as one signed-in target user; `meta` gives a model's field metadata (read once a run)."""

    def __init__(self, api: CrmApi, ledger: Ledger, run_id: str, fake: Faker, meta: Callable[[str], FieldsMeta]):
        self.api, self.ledger, self.run_id, self.fake, self.meta = api, ledger, run_id, fake, meta
        self.who = f"target user {api.username}"
        self._folder: str | None = None

    def probe(self, model: str) -> ProbeResult:
        """Create, read, modify and delete one record (after the records it must point to)."""
        meta, helpers, notes = self.meta(model), [], []
        step, created, updated = "create", None, None
        try:
            refs = {name: self._reference(model, name, target, helpers) for name, target in references(model, meta).items()}
            marker = Marker.new(model, self.run_id)
            payload = build_payload(model, meta, marker, self.fake, refs)
            notes += payload.notes
            if payload.unmarkable:
                raise _Finding(payload.unmarkable, verifiable=False)
            record_id = self._create(marker, payload.data, f"probe {model}")
            step = "read"
            created = self._confirmed(marker, record_id, self._read_created(marker, record_id))
            step = "modify"
            self.api.update(model, record_id, {"description": marker.modified_description})
            updated = self._confirmed(marker, record_id, self.api.read(model, record_id), after_modify=True)
            if str(updated.get("description") or "") != marker.modified_description:
                raise _Finding(f"{self.who}: the modify of the {model} record {record_id} was answered, but reading "
                               f"it back shows no change (description {updated.get('description')!r}); the "
                               "cleanup removes the record")  # still marked, so still the run's to delete
            step = "delete"
            self.api.delete(model, record_id)
            if not is_gone(self.api, model, record_id):
                raise _Finding(f"{self.who} deleted a {model} record, but it can still be read")
            self.ledger.settled(model, record_id)
            for helper, helper_id in reversed(helpers):  # what the record pointed to goes last
                problem = self.ledger.remove(helper, helper_id)
                if problem:
                    notes.append(f"the {helper.model} record made for the probe {model} is left for the cleanup: {problem}")
        except _Finding as exc:
            if not exc.verifiable:
                return ProbeResult(model, None, created, updated, not_verifiable=str(exc), notes=tuple(notes))
            return ProbeResult(model, str(exc), created, updated, notes=tuple(notes))
        except AccessDenied as exc:
            return ProbeResult(model, f"{self.who} cannot {step} {model} records: {exc}", created, updated, notes=tuple(notes))
        except Refused as exc:
            what = f"probe {model}" if step == "create" else f"{step} of the probe {model}"
            return ProbeResult(model, refusal(what, exc, meta), created, updated, notes=tuple(notes))
        except CrmError as exc:
            if step != "create":
                raise
            return ProbeResult(model, f"{self.who}: the create of the probe {model} got no usable reply ({exc}); the "
                               "cleanup looks for the record by its mark", notes=tuple(notes))
        return ProbeResult(model, None, created, updated, notes=tuple(notes))

    def _create(self, marker: Marker, data: dict, what: str) -> str:
        try:
            return self.ledger.create(self.api, marker, data)
        except Refused as exc:
            raise _Finding(refusal(what, exc, self.meta(marker.model), data)) from None
        except NotFound as exc:  # [assumed] the model is not exposed over REST on this server (1crm-api.md §4)
            module = MODULES.get(marker.model, marker.model)
            raise _Finding(f"the {marker.model} model is not verifiable through the API on this server ({exc}) — "
                           f"check by hand: sign in to 1CRM in a browser as {self.api.username}, create, open, modify "
                           f"and delete a {module} record", verifiable=False) from None

    def _read_created(self, marker: Marker, record_id: str, fields=()) -> dict:
        try:
            return self.api.read(marker.model, record_id, fields=fields)
        except NotFound:
            self.ledger.disown(marker, record_id)  # the record made, if any, is looked for by its mark
            raise _Finding(f"{self.who}: the server's create reply named a {marker.model} record ({record_id}) "
                           "that cannot be read") from None

    def _confirmed(self, marker: Marker, record_id: str, record: dict, *, after_modify: bool = False) -> dict:
        """The record the server named, if it carries this record's mark; else a finding, and hands off."""
        if not isinstance(record, dict) or not marker.matches(record):
            self.ledger.disown(marker, record_id)
            title = record.get(marker.title_field) if isinstance(record, dict) else None
            if after_modify:
                raise _Finding(f"{self.who}: after the modify, the {marker.model} record {record_id} no longer carries "
                               f"the probe's mark (titled {title!r}) — the suite did not delete it")
            raise _Finding(f"{self.who}: the server's create reply named a {marker.model} record that is not the "
                           f"probe's ({record_id}, titled {title!r}) — the suite did not modify it")
        return record

    def _reference(self, model: str, name: str, target: str | None, helpers: list) -> str:
        """An id for a required reference: a folder the user can see, or a record the probe makes itself."""
        if target == FOLDER_MODEL:
            return self._email_folder(model, name)
        if target is None or target == model or target not in REFERABLE:
            raise _Finding(f"the {model} field '{name}' is a required reference to {target or 'a record'}, which "
                           "the probe cannot choose; check by hand that the user can create such records",
                           verifiable=False)
        marker = Marker.new(target, self.run_id)
        payload = build_payload(target, self.meta(target), marker, self.fake, {})
        if payload.unmarkable:
            raise _Finding(payload.unmarkable, verifiable=False)
        try:
            record_id = self._create(marker, payload.data, f"{target} the probe {model} needs")
            self._confirmed(marker, record_id, self._read_created(marker, record_id, marker_fields(target)))
        except AccessDenied as exc:
            raise _Finding(f"{self.who} cannot create the {target} record the probe {model} needs ({name}): {exc}") from None
        helpers.append((marker, record_id))
        return record_id

    def _email_folder(self, model: str, name: str) -> str:
        if self._folder is None:
            why = "the API lists none"
            try:
                folders = list(itertools.islice(self.api.list(FOLDER_MODEL, fields=["id", "name"], page_size=20), 20))
                self._folder = next((str(f["id"]) for f in folders if isinstance(f, dict) and f.get("id")), None)
            except CrmError as exc:
                why = f"listing {FOLDER_MODEL} failed: {exc}"
            if self._folder is None:
                raise _Finding(f"no e-mail folder that {self.api.username} can see ({why}), and the {model} field "
                               f"'{name}' requires one: check by hand that {self.api.username} can archive e-mail",
                               verifiable=False)
        return self._folder


REFERABLE = frozenset({"Account", "Contact", "Lead"})  # records the probe may make for a reference (no references)


def refusal(what: str, exc: Refused, meta: FieldsMeta, data: dict | None = None) -> str:
    """A 400 told as what it is, in the server's words, with the field it names."""
    words = exc.reason.strip() or "no reason given"
    field = _field_named(words, [*(data or {}), *meta.fields])
    named = f" (field '{field}')" if field and f"'{field}'" not in words else ""
    return f"1CRM refused the {what}: {words}{named} — {NOT_RIGHTS}"


def _field_named(words: str, known: list[str]) -> str | None:
    for name in sorted(set(known), key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", words):
            return name
    quoted = re.search(r"['\"`]([A-Za-z_]\w*)['\"`]", words) or re.search(r"\bfield:?\s+([A-Za-z_]\w*)", words, re.I)
    return quoted.group(1) if quoted else None


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
    """R4.4: failed on any failure; not verifiable when a datatype could not be probed; passed otherwise."""
    failures = [r.failure for r in results if r.failure]
    unverifiable = [f"{r.model}: {r.not_verifiable}" for r in results if r.not_verifiable]
    notes = [n for r in results for n in r.notes]
    evidence = {"probe records": notes} if notes else {}
    built = f" ({'; '.join(notes)})" if notes else ""
    if failures:
        rest = f"; not verifiable: {'; '.join(unverifiable)}" if unverifiable else ""
        return Outcome.fail("; ".join(failures) + rest, subject=address, evidence=evidence)
    done = len(results) - len(unverifiable)
    if unverifiable:
        return Outcome.not_verifiable(f"{user.user_name} probed {done} of {len(results)} datatypes; not verifiable: "
                                      + "; ".join(unverifiable), subject=address, evidence=evidence)
    return Outcome.ok(f"{user.user_name} created, read, modified and deleted a probe record of each of "
                      f"{len(results)} datatypes{built} — {OWN_PASSWORD}", subject=address, evidence=evidence)


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
                      f"modified by {user.user_name}{note} — {OWN_PASSWORD}", subject=address)
