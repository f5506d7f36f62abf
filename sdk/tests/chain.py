"""Read the call chain a lazy dagger-io object would send to the engine.

dagger-io builds queries lazily: each object keeps the list of fields selected
so far (``obj._ctx.selections``), and nothing reaches an engine until a leaf is
awaited. Reading that list is a faithful recorder of the recipe: it is the real
client API (a wrong method or argument name fails here as it would live).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One selected field: GraphQL type and field name, and rendered arguments."""

    type_name: str
    field: str
    args: dict[str, Any]


def _render(value: Any) -> Any:
    ctx = getattr(value, "_ctx", None)
    if ctx is not None and hasattr(ctx, "selections"):
        return chain(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_render(v) for v in value]
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    return value


def chain(obj: Any) -> list[Call]:
    """The object's selections, object arguments rendered as their own chains."""
    return [
        Call(f.type_name, f.name, {k: _render(v) for k, v in f.args.items()})
        for f in obj._ctx.selections
    ]


def fields(obj: Any) -> list[str]:
    """Just the field names of the chain, in order."""
    return [c.field for c in chain(obj)]


def only(calls: list[Call], field: str) -> Call:
    """The single call of that field; fails if there are none or several."""
    found = [c for c in calls if c.field == field]
    assert len(found) == 1, f"expected one {field!r}, found {len(found)}: {calls}"
    return found[0]
