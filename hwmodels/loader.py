"""Load a design from a preset name, a quarch YAML file or a SCALE-Sim .cfg, with overrides.

Overrides are `dotted.path=value` strings applied to the raw description before it is
validated, e.g. `array.rows=64`, `clock_hz=1.5e9`, `memory.sram.capacity_bytes=65536`
(a memory level is addressed by name or index). Values are parsed as YAML scalars.
"""
from __future__ import annotations

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
    """A copy of `data` with each `dotted.path=value` override set (lists indexed by name or position)."""
    import copy

    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"{item!r}: an override is key.path=value, e.g. array.rows=64", field="--set")
        value = yaml.safe_load(text)
        parts = key.strip().split(".")
        node = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, list):
                index = _list_index(node, part, key)
                if last:
                    node[index] = value
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise SpecError(f"{key!r}: '{'.'.join(parts[:depth])}' is a value, not a section",
                                field="--set")
    return data


def _list_index(items: list, part: str, key: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return index
    names = [str(item.get("name")) for item in items if isinstance(item, dict)]
    raise SpecError(f"{key!r}: no entry {part!r}; allowed are {', '.join(names)} or an index "
                    f"0..{len(items) - 1}", field="--set")
