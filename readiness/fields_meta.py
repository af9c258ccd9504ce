"""A model's field metadata, as the server itself describes it (GET /meta/fields/{Model}, 1crm-api.md §3).

The probes build their records from it and the sweep picks its filters from it. A reply that cannot be
read (404, 403, empty, an odd shape) is kept as a `problem`, never raised: the caller falls back to what
the suite knows and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client import CrmApi
from .errors import CrmError

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str = ""
    required: bool = False
    has_default: bool = False
    default: str | None = None
    editable: bool = True
    options: tuple[str, ...] = ()  # enum values, when the server lists them
    target: str | None = None  # the model a reference field points to, when the server says


@dataclass(frozen=True)
class FieldsMeta:
    model: str
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    filters: frozenset[str] = frozenset()
    problem: str | None = None  # why the metadata could not be used; then fields and filters are empty

    @property
    def readable(self) -> bool:
        return self.problem is None

    def has(self, name: str) -> bool:
        return name in self.fields

    def get(self, name: str) -> FieldInfo | None:
        return self.fields.get(name)


def read_fields_meta(api: CrmApi, model: str) -> FieldsMeta:
    try:
        reply = api.fields_meta(model)
    except CrmError as exc:
        return FieldsMeta(model, problem=f"GET /meta/fields/{model} failed: {exc}")
    return parse_fields_meta(model, reply)


def parse_fields_meta(model: str, reply: Any) -> FieldsMeta:
    """The metadata of one model from the reply's `fields` and `filters`; anything else shaped is a problem."""
    fields = reply.get("fields") if isinstance(reply, dict) else None
    if not isinstance(fields, dict) or not fields:
        shape = "an empty reply" if not reply else f"no 'fields' object ({_excerpt(reply)})"
        return FieldsMeta(model, problem=f"GET /meta/fields/{model} gave {shape}")
    parsed = {str(name): _field(str(name), info) for name, info in fields.items()}
    return FieldsMeta(model, parsed, _filters(reply.get("filters")))


def _field(name: str, info: Any) -> FieldInfo:
    if not isinstance(info, dict):
        return FieldInfo(name)  # the field exists; nothing else is known about it
    default = info.get("default")
    has_default = default is not None and default != ""
    target = info.get("bean_name") or info.get("ref_model") or info.get("module")  # [assumed] reference keys
    return FieldInfo(
        name=name,
        type=str(info.get("type") or "").lower(),
        required=_flag(info.get("required"), False),
        has_default=has_default,
        default=str(default) if has_default else None,
        editable=_flag(info.get("editable"), True),
        options=_options(info.get("options")),
        target=str(target) if isinstance(target, str) and target else None,
    )


def _flag(value: Any, missing: bool) -> bool:
    """1CRM sends booleans as "0"/"1" strings in records; metadata may use JSON booleans."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _options(value: Any) -> tuple[str, ...]:
    """Enum values from {value: label}, [value, ...] or [{value:, label:}, ...]."""
    if isinstance(value, dict):
        return tuple(str(k) for k in value if str(k))  # 1CRM's lists often start with an empty choice
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("value", item.get("id"))
            if isinstance(item, (str, int)) and str(item):
                out.append(str(item))
        return tuple(out)
    return ()


def _filters(value: Any) -> frozenset[str]:
    if isinstance(value, dict):
        return frozenset(str(k) for k in value)
    if isinstance(value, list):
        return frozenset(str(v) for v in value if isinstance(v, str))
    return frozenset()


def _excerpt(reply: Any) -> str:
    text = repr(reply)
    return text if len(text) <= 80 else text[:77] + "..."
