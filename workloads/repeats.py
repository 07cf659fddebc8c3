"""Identical layers as repeats: layer ranges in op names.

An op named `layers.3-30.mlp.down_proj` with repeat 28 stands for the identical ops
`layers.3.mlp.down_proj` ... `layers.30.mlp.down_proj`. The layer index is the first dotted
segment that is a number or ends in `_<number>` (`layers.7.mlp.0` -> 7, `encoder_layer_7.mlp.0`
-> 7). `collapse` merges per-layer ops into such ranges; `layer_names` lists the per-layer names
an op stands for (what mixed-precision policies match against).
"""
from __future__ import annotations

import re
from typing import Sequence

_BARE = re.compile(r"(\d+)(?:-(\d+))?")  # "7" or "3-30"
_SUFFIXED = re.compile(r"(.*_)(\d+)(?:-(\d+))?")  # "encoder_layer_7" or "encoder_layer_3-30"


def range_name(template: str, first: int, last: int) -> str:
    """`template` (with one `{}`) naming layers first..last."""
    return template.format(first if first == last else f"{first}-{last}")


def _locate(name: str) -> tuple[str, int, int] | None:
    """(template, first, last) of the layer index or range in `name`, or None."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if match := _BARE.fullmatch(part):
            prefix, first, last = "", match[1], match[2]
        elif match := _SUFFIXED.fullmatch(part):
            prefix, first, last = match[1], match[2], match[3]
        else:
            continue
        template = ".".join(parts[:i] + [prefix + "{}"] + parts[i + 1:])
        return template, int(first), int(last or first)
    return None


def split_index(name: str) -> tuple[str, int] | None:
    """(template with `{}` for the layer index, index) of a per-layer name, or None."""
    located = _locate(name)
    if located is None or located[1] != located[2]:
        return None
    return located[0], located[1]


def layer_names(name: str, repeat: int) -> list[str]:
    """The per-layer names an op stands for: one per layer when its range spans exactly
    `repeat` layers (`layers.0.q_proj` with repeat 1 is the range 0..0), else its own name."""
    located = _locate(name)
    if located is None or located[2] - located[1] + 1 != repeat:
        return [name]
    template, first, last = located
    return [template.format(i) for i in range(first, last + 1)]


def split_layers(name: str, repeat: int) -> tuple[str, int] | None:
    """(template, first index) of an op whose name spans `repeat` layers, else None."""
    located = _locate(name)
    if located is None or located[2] - located[1] + 1 != repeat:
        return None
    return located[0], located[1]


def collapse(ops: Sequence) -> tuple:
    """Merge runs of ops that differ only in their layer index (consecutive indexes, repeat 1).

    The merged op sits where the run's first op was, named with the index range and with
    repeat = the run's length. Ops without a layer index, or with repeat > 1, stay as they are.
    """
    slots: list = []  # merged ops in output order: [op, template, first, last]
    open_runs: dict = {}  # (template, fields) -> slot
    for op in ops:
        parsed = split_index(op.name) if op.repeat == 1 else None
        if parsed is None:
            slots.append([op, None, 0, 0])
            continue
        template, index = parsed
        key = (template, _fields(op))
        slot = open_runs.get(key)
        if slot is not None and slot[3] == index - 1:
            slot[3] = index
        else:
            slot = [op, template, index, index]
            open_runs[key] = slot
            slots.append(slot)
    return tuple(op if template is None or first == last else
                 op.model_copy(update={"name": range_name(template, first, last), "repeat": last - first + 1})
                 for op, template, first, last in slots)


def _fields(op) -> tuple:
    return tuple((key, value) for key, value in op if key != "name")
