"""One error type for bad user input, shared by every layer, and its one-line rendering.

The CLI turns a `SpecError` into a single line on stderr and exit code 2; library callers
catch it as a `ValueError`.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class SpecError(ValueError):
    """Bad input: names the file, the field, the value and what is allowed."""

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None):
        self.file = str(file) if file is not None else None
        self.field = field
        self.detail = message
        where = ": ".join(part for part in (self.file, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


def from_validation_error(err: ValidationError, *, file: str | Path | None = None,
                          prefix: str = "") -> SpecError:
    """The first pydantic validation problem as a one-line `SpecError` (field path, value, rule)."""
    first = err.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
    field = ".".join(p for p in (prefix, loc) if p) or None
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    value = first.get("input")
    if first["type"] not in ("missing",) and not isinstance(value, (dict, list)):
        message = f"{value!r}: {message}"
    more = err.error_count() - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return SpecError(message, file=file, field=field)
