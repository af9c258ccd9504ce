"""CRM users as Riva sees them: listed once, matched to mailboxes by primary e-mail (R4.2).

Riva matches a mailbox only when exactly one active CRM user has that address as primary e-mail
(email1), and that user is neither a group nor a portal-only user. Matching is done in memory
over one paged listing: never one request per target.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import CrmApi
from .errors import UnexpectedReply
from .outcome import Outcome

USER_FIELDS = ("id", "user_name", "first_name", "last_name", "email1", "email2", "status", "is_admin",
               "portal_only", "is_group")


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")  # the API sends "0"/"1" strings


def _text(value) -> str:
    """A text field as text, whatever JSON type a server sent (a number is not an e-mail address, but no crash)."""
    return value if isinstance(value, str) else "" if value is None else str(value)


def _normal(address: str | None) -> str:
    return (address or "").strip().casefold()


@dataclass(frozen=True)
class CrmUser:
    id: str
    user_name: str
    name: str
    email1: str
    email2: str
    active: bool
    is_admin: bool
    portal_only: bool
    is_group: bool

    @classmethod
    def from_record(cls, record: dict) -> CrmUser:
        if not isinstance(record.get("id"), str) or not all(isinstance(record.get(k), (str, type(None)))
                                                           for k in ("user_name", "email1", "email2")):
            shown = {k: record.get(k) for k in ("id", "user_name", "email1")}
            raise UnexpectedReply(f"unexpected reply from server: a user record without a text id, user_name or "
                                  f"e-mail address ({shown})")
        text = {k: _text(record.get(k)) for k in ("user_name", "first_name", "last_name", "email1", "email2")}
        name = " ".join(filter(None, (text["first_name"], text["last_name"])))
        return cls(
            id=str(record["id"]), user_name=text["user_name"], name=name or text["user_name"],
            email1=text["email1"], email2=text["email2"],
            active=(record.get("status") or "Active") == "Active", is_admin=_flag(record.get("is_admin")),
            portal_only=_flag(record.get("portal_only")), is_group=_flag(record.get("is_group")),
        )

    @property
    def label(self) -> str:
        return f"{self.user_name} ({self.name})" if self.name and self.name != self.user_name else self.user_name

    @property
    def kind_problem(self) -> str | None:
        """Why Riva cannot act as this user, if it cannot."""
        if not self.active:
            return "is inactive"
        if self.is_group:
            return "is a group user"
        if self.portal_only:
            return "is a portal-only user"
        return None


def list_users(api: CrmApi) -> list[CrmUser]:
    """Every CRM user, in pages of 200, with the fields matching needs."""
    return [CrmUser.from_record(record) for record in api.list("User", fields=USER_FIELDS)]


@dataclass(frozen=True)
class Match:
    address: str
    user: CrmUser | None  # the user Riva would act as, when there is exactly one candidate
    outcome: Outcome


class Directory:
    """Every CRM user, indexed by normalised primary and secondary e-mail."""

    def __init__(self, users: list[CrmUser]):
        self.users = users
        self._primary: dict[str, list[CrmUser]] = {}
        self._secondary: dict[str, list[CrmUser]] = {}
        for user in users:
            if user.email1:
                self._primary.setdefault(_normal(user.email1), []).append(user)
            if user.email2:
                self._secondary.setdefault(_normal(user.email2), []).append(user)

    def match(self, address: str) -> Match:
        """The R4.2 diagnosis for one mailbox, with its own message for each way matching fails."""
        candidates = self._primary.get(_normal(address), [])
        active = [u for u in candidates if u.active]
        if not candidates:
            secondary = self._secondary.get(_normal(address), [])
            if secondary:
                names = ", ".join(u.label for u in secondary)
                return self._fail(address, None, f"only a secondary e-mail matches ({names} has it as email2); Riva "
                                                 "matches the primary e-mail — make it the user's primary address")
            return self._fail(address, None, "no CRM user has this primary e-mail address — create the user or fix "
                                             "its primary e-mail")
        if len(active) > 1:
            names = ", ".join(u.label for u in active)
            return self._fail(address, None, f"{len(active)} active CRM users share this primary e-mail ({names}); "
                                             "Riva needs exactly one")
        user = active[0] if active else candidates[0]
        if user.kind_problem:
            return self._fail(address, user, f"the matching CRM user {user.label} {user.kind_problem}; Riva cannot "
                                             "act as this user")
        if user.email1 != address:
            return Match(address, user, Outcome.fail(
                f"matches {user.label} only when ignoring letter case or spaces (CRM has '{user.email1}'); Riva "
                "expects identical values — make them identical", subject=address, advisory=True))
        return Match(address, user, Outcome.ok(f"matches exactly one active user: {user.label}", subject=address))

    @staticmethod
    def _fail(address: str, user: CrmUser | None, message: str) -> Match:
        return Match(address, user, Outcome.fail(message, subject=address))
