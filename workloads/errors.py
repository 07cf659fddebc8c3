"""One error type for bad user input, shared by every layer, and its one-line rendering.

The CLI turns a `SpecError` into a single line on stderr and exit code 2; library callers
catch it as a `ValueError`.
"""
from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError


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
    """The first pydantic validation problem as a one-line `SpecError` (field path, value, rule).

    An unknown field lists the fields allowed at that place (found from the model's schema).
    """
    errors = err.errors(include_url=False)
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function-"))
    field = ".".join(p for p in (prefix, loc) if p) or None
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if first["type"] == "extra_forbidden":
        model = err.title and _MODELS.get(err.title)
        allowed = _allowed_fields(model, first["loc"][:-1]) if model else []
        message = "unknown field" + (f"; allowed are {', '.join(allowed)}" if allowed else "")
    value = first.get("input")
    if first["type"] not in ("missing",) and not isinstance(value, (dict, list)):
        message = f"{value!r}: {message}"
    # a container failing because its element failed is the same problem, not one more
    more = sum(1 for e in errors[1:] if tuple(e["loc"]) != tuple(first["loc"][:len(e["loc"])]))
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return SpecError(message, file=file, field=field)


_MODELS: dict[str, type[BaseModel]] = {}


def register_model(model: type[BaseModel]) -> type[BaseModel]:
    """Make `model`'s fields known to error messages (validation errors carry only its name)."""
    _MODELS[model.__name__] = model
    return model


def _members(annotation) -> list[type[BaseModel]]:
    """Model classes reachable from a field annotation (through Optional, Union, Annotated, containers)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _members(arg)]


def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names (as written in files: aliases) of the model reached by following `loc`."""
    candidates = [model]
    for part in loc:
        step = []
        for cls in candidates:
            written = {field.alias or name: field for name, field in cls.model_fields.items()}
            if str(part) in written:
                step += _members(written[str(part)].annotation)
        tagged = [cls for cls in candidates if isinstance(part, str)
                  and any(field.default == part for field in cls.model_fields.values())]
        # a discriminated-union tag (e.g. 'gemm') picks its member; a list position or dict key keeps the model
        candidates = step or tagged or candidates
    return sorted({field.alias or name for cls in candidates for name, field in cls.model_fields.items()})
