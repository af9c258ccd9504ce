"""What a domain check concludes: passed or not, in a sentence a CRM admin understands."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    subject: str | None = None  # e.g. a target address, where a requirement is judged per user
    advisory: bool = False  # a soft finding, even inside a blocking requirement
    evidence: dict = field(default_factory=dict, compare=False)
    verifiable: bool = True  # False: the server offers no way to check this; the message says why

    @classmethod
    def not_verifiable(cls, reason: str, **kw) -> Outcome:
        return cls(False, reason, verifiable=False, **kw)

    @classmethod
    def ok(cls, message: str, **kw) -> Outcome:
        return cls(True, message, **kw)

    @classmethod
    def fail(cls, message: str, **kw) -> Outcome:
        return cls(False, message, **kw)
