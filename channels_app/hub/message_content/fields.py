"""Reading the fields of a JSON object forgivingly: a field of the wrong type reads as empty."""

from __future__ import annotations

from typing import Any

# A JSON object as json.loads gives it: the Hub's (or Meta's) fields, read one by one.
JSONObject = dict[str, Any]


def text_of(value: object) -> str:
    """A string as is, a number as its decimal text (some providers keep ids numeric), anything else ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def object_of(value: object) -> JSONObject:
    return value if isinstance(value, dict) else {}


def array_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def number_of(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
