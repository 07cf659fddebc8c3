"""Resolve a workload argument: a built-in or zoo name, a trace file, a SCALE-Sim topology CSV, or an inline op.

Zoo names: `MODEL[:PHASE][:key=value,...]` (see `workloads.zoo`), e.g. llama2-7b:decode:batch=1,ctx=2048.

Inline ops (keys case-insensitive; formats w/a/o, group size g):
    gemm:M=64,N=4096,K=4096[,batch=1][,w=int4][,a=fp16][,o=fp16][,g=128]
    conv:H=56,W=56,C=64,K=64,R=3,S=3[,stride=1][,pad=1][,groups=1][,batch=1][,w=..][,a=..][,o=..]
(conv: H x W input with C channels, K filters of R x S.)
"""
from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from workloads.builtin import BUILTIN
from workloads.errors import SpecError, from_validation_error
from workloads.ops import Conv2d, Gemm, OpFormats
from workloads.scalesim_topology import load_topology
from workloads.workload import Workload, WorkloadMetadata, load_trace
from workloads.zoo import closest_name, is_zoo_name, load_zoo, zoo_names

_FORMAT_KEYS = {"w": "weight", "a": "activation", "o": "output", "g": "group_size"}
_GEMM_KEYS = {"m": "m", "n": "n", "k": "k", "batch": "batch"}
_CONV_KEYS = {"h": "in_h", "w_in": "in_w", "c": "in_channels", "k": "out_channels", "r": "kernel_h",
              "s": "kernel_w", "batch": "batch", "groups": "groups"}


def load_workload(spec: str) -> Workload:
    """A workload from a built-in or zoo name, a trace file (.yaml/.yml/.json), a topology .csv or an inline op."""
    if spec in BUILTIN:
        return BUILTIN[spec]()
    kind, sep, _ = spec.partition(":")
    if sep and kind.lower() in ("gemm", "conv"):
        return parse_inline(spec)
    if is_zoo_name(spec):
        return load_zoo(spec)
    path = Path(spec)
    if path.suffix == ".csv":
        return load_topology(path)
    if path.suffix in (".yaml", ".yml", ".json"):
        return load_trace(path)
    close = closest_name(spec)
    hint = f"did you mean {close!r}? " if close and not path.suffix else ""
    raise SpecError(f"{spec!r} is not a workload: {hint}give a built-in name ({', '.join(BUILTIN)}), a zoo name "
                    f"({', '.join(zoo_names())}; e.g. llama2-7b:decode:batch=1,ctx=2048), a trace file "
                    "(.yaml/.yml/.json), a SCALE-Sim topology (.csv), or an inline op such as "
                    "gemm:M=64,N=4096,K=4096,w=int4,a=fp16 or conv:H=56,W=56,C=64,K=64,R=3,S=3,stride=1,pad=1",
                    field="--workload")


def parse_inline(spec: str) -> Workload:
    """One-op workload from `gemm:...` or `conv:...` (see module docstring)."""
    kind, _, body = spec.partition(":")
    kind = kind.lower()
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise SpecError(f"{item!r} in {spec!r}: each item is key=value", field="--workload")
        key, value = key.strip().lower(), value.strip()
        if kind == "conv" and key == "w" and value.isdigit():
            key = "w_in"  # conv `W=56` is the input width; `w=int4` the weight format
        values[key] = value
    formats = {_FORMAT_KEYS[k]: v for k, v in values.items() if k in _FORMAT_KEYS}
    fields: dict[str, object] = {"name": spec}
    if kind == "gemm":
        allowed = {**_GEMM_KEYS, **_FORMAT_KEYS}
        fields.update({_GEMM_KEYS[k]: v for k, v in values.items() if k in _GEMM_KEYS})
        model = Gemm
    else:
        allowed = {**_CONV_KEYS, **_FORMAT_KEYS, "stride": "", "pad": ""}
        fields.update({_CONV_KEYS[k]: v for k, v in values.items() if k in _CONV_KEYS})
        if "stride" in values:
            fields["stride_h"] = fields["stride_w"] = values["stride"]
        if "pad" in values:
            fields["pad_h"] = fields["pad_w"] = values["pad"]
        model = Conv2d
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        shown = sorted(k.upper() if len(k) == 1 and k not in "wao" else k for k in allowed if k != "w_in")
        raise SpecError(f"unknown key {unknown[0]!r} in {spec!r}: allowed are {', '.join(shown)}",
                        field="--workload")
    try:
        op = model.model_validate({**fields, "formats": OpFormats.model_validate(formats)})
    except ValidationError as err:
        raise from_validation_error(err, prefix=f"--workload {kind}") from None
    return Workload(metadata=WorkloadMetadata(model=spec, source="inline"), ops=(op,))

