"""Load a design from a preset name, a quarch YAML file or a SCALE-Sim .cfg, with overrides.

Overrides are `dotted.path=value` strings applied to the raw description before it is
validated, e.g. `array.rows=64`, `clock_hz=1.5e9`, `memory.sram.capacity_bytes=65536`
(a memory level is addressed by name or index). Values are parsed as YAML scalars.
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from hwmodels.scalesim_cfg import looks_like_scalesim_cfg, scalesim_cfg_dict
from hwmodels.spec import Hardware
from workloads.errors import SpecError, from_validation_error
from workloads.workload import read_data_file

PRESET_DIR = Path(__file__).with_name("presets")


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


def load_hardware(spec: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> Hardware:
    """Resolve `spec` (preset name, .yaml/.yml file, SCALE-Sim .cfg) into a validated design."""
    path = Path(spec)
    if path.suffix in (".yaml", ".yml", ".cfg", ".json") or path.exists():
        if not path.exists():
            raise SpecError("no such file", file=path)
        source = path
        data = scalesim_cfg_dict(path) if looks_like_scalesim_cfg(path) else read_data_file(path)
    elif str(spec) in preset_names():
        source = PRESET_DIR / f"{spec}.yaml"
        data = read_data_file(source)
    else:
        raise SpecError(f"{str(spec)!r} is neither a file nor a preset: presets are "
                        f"{', '.join(preset_names())} (see `quarch presets`)", field="--hw")
    if not isinstance(data, dict):
        raise SpecError("a hardware description must be a YAML mapping with name, clock_hz, array, "
                        "memory, ...", file=source)
    data = apply_overrides(data, overrides)
    try:
        return Hardware.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, file=source) from None


def apply_overrides(data: dict, overrides) -> dict:
    """A copy of `data` with each `dotted.path=value` override set (lists indexed by name or position).

    Only the containers along an override's path are copied; the rest is shared with `data`
    (which is never modified), so a sweep can apply a point's overrides cheaply.
    """
    data = dict(data)
    copied = {id(data)}  # containers of the result that are already copies
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"{item!r}: an override is key.path=value, e.g. array.rows=64", field="--set")
        value = _scalar(text)
        parts = key.strip().split(".")
        node = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part, key)
                if last:
                    node[index] = value
                else:
                    node[index] = node = _own(node[index], copied)
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node[part] = node = _own(node.get(part, {}), copied)
            else:
                raise SpecError(f"{key!r}: '{'.'.join(parts[:depth])}' is a value, not a section",
                                field="--set")
    return data


def _own(node, copied: set):
    """`node` itself if it is already a copy made for this result, else a shallow copy of it."""
    if id(node) in copied or not isinstance(node, (dict, list)):
        return node
    node = dict(node) if isinstance(node, dict) else list(node)
    copied.add(id(node))
    return node


def _scalar(text: str):
    """An override's value parsed as YAML (a fresh object each time: callers may modify it)."""
    value = _parsed(text)
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


# plain decimal numbers, which YAML reads as Python's int() and float() do; a sweep's overrides
# are mostly these, and each new value would otherwise cost a YAML parse
_PLAIN_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")


@lru_cache(maxsize=65536)
def _parsed(text: str):
    if _PLAIN_INT.fullmatch(text):
        return int(text)
    if _PLAIN_FLOAT.fullmatch(text):
        return float(text)
    return yaml.safe_load(text)


def _list_index(items: list, part: str, key: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return index
    names = [str(item.get("name")) for item in items if isinstance(item, dict)]
    raise SpecError(f"{key!r}: no entry {part!r}; allowed are {', '.join(names)} or an index "
                    f"0..{len(items) - 1}", field="--set")
