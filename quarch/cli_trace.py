"""Commands for workloads from models: `quarch trace`, `quarch export`, `quarch zoo`.

`quarch trace MODEL -o TRACE` writes a trace file from an ONNX file, a PyTorch factory
(`package.module:make` or `file.py:make`, returning (nn.Module, example_inputs)) or a zoo
name, with formats from --quant/--kv/--policy; skipped ops are listed on stderr.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from quarch.cli import app, console, fail
from pydantic import ValidationError

from workloads.errors import SpecError, from_validation_error
from workloads.exporters import export_scalesim, export_zigzag
from workloads.importing import Traced
from workloads.loader import load_workload
from workloads.quant import QuantPolicy, apply_policy, load_policy, weight_memory
from workloads.workload import save_trace
from workloads.zoo import build, closest_name, is_zoo_name, load_zoo, model_weight_memory, zoo_names
from workloads.zoo.config import zoo_configs

EXPORTERS = {"scalesim": export_scalesim, "zigzag": export_zigzag}


def _dims(items: list[str]) -> dict[str, int]:
    dims = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise SpecError(f"{item!r}: give a dynamic dim as NAME=VALUE with a positive integer", field="--dim")
        dims[key.strip()] = int(value)
    return dims


def _policy(quant: str | None, kv: str | None, policy_file: str | None) -> QuantPolicy | None:
    if not (quant or kv or policy_file):
        return None
    policy = load_policy(policy_file) if policy_file else QuantPolicy()
    fields = policy.model_dump(exclude_unset=True)
    fields.update({k: v for k, v in (("default", quant), ("kv_cache", kv)) if v})
    return _validated_policy(fields, "--quant/--kv")


def _validated_policy(fields: dict, where: str) -> QuantPolicy:
    try:
        return QuantPolicy.model_validate(fields)
    except ValidationError as err:
        raise from_validation_error(err, prefix=where) from None


def _import(model: str, dims: dict[str, int]) -> Traced:
    if model.endswith(".onnx"):
        try:
            from workloads.onnx_import import import_onnx
            return import_onnx(model, dims=dims)
        except ModuleNotFoundError as err:
            raise SpecError(f"ONNX import needs the onnx package ({err.name} missing): "
                            "pip install 'quarch[onnx]'", field="MODEL") from None
    if is_zoo_name(model):
        return Traced(load_zoo(model))
    if ":" in model:
        from workloads.trace_torch import load_factory, trace_module
        try:
            import torch  # noqa: F401
        except ModuleNotFoundError:
            raise SpecError("PyTorch tracing needs torch: pip install 'quarch[trace]'", field="MODEL") from None
        return trace_module(load_factory(model), name=model)
    close = closest_name(model)
    raise SpecError(f"{model!r} is not a model: " + (f"did you mean {close!r}? " if close else "")
                    + "give an ONNX file (.onnx), a PyTorch factory (module:function or file.py:function) "
                    f"or a zoo name ({', '.join(zoo_names())})", field="MODEL")


@app.command("trace")
def trace_command(
    model: Annotated[str, typer.Argument(help="ONNX file, PyTorch factory module:function or file.py:function, "
                                              "or a zoo name")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Trace file to write (.yaml, .yml or .json)")],
    dim: Annotated[Optional[list[str]], typer.Option("--dim", help="Value of a dynamic ONNX input dim: NAME=VALUE")] = None,
    quant: Annotated[Optional[str], typer.Option("--quant", help="Uniform scheme, e.g. W4A16G128, W8A8, W4A4KV4")] = None,
    kv: Annotated[Optional[str], typer.Option("--kv", help="KV-cache format, e.g. int4")] = None,
    policy: Annotated[Optional[str], typer.Option("--policy", help="Policy or per-layer file (.yaml/.csv)")] = None,
) -> None:
    """Trace a model into a quarch trace file (loads back identically with --workload TRACE)."""
    try:
        traced = _import(model, _dims(dim or []))
        chosen = _policy(quant, kv, policy)
        workload = apply_policy(traced.workload, chosen, file=policy) if chosen else traced.workload
        save_trace(workload, output)
    except SpecError as err:
        fail(str(err))
    if traced.skipped:
        listing = ", ".join(f"{op} x{count}" for op, count in sorted(traced.skipped.items()))
        Console(stderr=True).print(f"[yellow]warning:[/] skipped unsupported ops: {listing}", highlight=False)
    memory = weight_memory(workload)
    console.print(f"{output}: {len(workload.ops)} ops, {workload.macs / 1e9:.4g} G MACs, "
                  f"{memory.matmul_parameters / 1e6:.4g} M GEMM/conv weights = "
                  f"{(memory.element_bytes + memory.scale_bytes) / 1e6:.4g} MB", highlight=False)


@app.command("export")
def export_command(
    workload: Annotated[str, typer.Argument(help="Any workload: zoo/built-in name, trace file, topology, inline op")],
    to: Annotated[str, typer.Option("--to", help="scalesim (topology CSV) or zigzag (workload YAML)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write")],
    expand_repeats: Annotated[bool, typer.Option("--expand-repeats", help="One row/layer per repeat and instance")] = False,
) -> None:
    """Export a workload for SCALE-Sim or ZigZag, to cross-check quarch with them."""
    if to not in EXPORTERS:
        fail(f"--to: {to!r} not allowed: allowed are {', '.join(EXPORTERS)}")
    try:
        skipped = EXPORTERS[to](load_workload(workload), output, expand_repeats=expand_repeats)
    except SpecError as err:
        fail(str(err))
    if skipped:
        Console(stderr=True).print(f"[yellow]note:[/] {len(skipped)} ops have no {to} form and were left out "
                                   f"(e.g. {', '.join(skipped[:3])})", highlight=False)
    console.print(f"wrote {output}", highlight=False)


@app.command("zoo")
def zoo_command(
    quant: Annotated[Optional[str], typer.Option("--quant", help="Weight memory at this scheme (default: each "
                                                                 "model's own)")] = None,
) -> None:
    """List the model zoo: parameters, weight memory and where each config comes from."""
    table = Table(title="model zoo" + (f" at {quant}" if quant else ""))
    for column in ("name", "arch", "parameters", "precision", "weights GB", "source"):
        table.add_column(column, justify="right" if column in ("parameters", "weights GB") else "left")
    try:
        for name in zoo_names():
            config = zoo_configs()[name]
            scheme = quant or config.default_quant
            memory = model_weight_memory(name, build(name, policy=_validated_policy({"default": scheme}, "--quant")))
            count = config.parameters()
            table.add_row(name, config.arch, f"{count / 1e9:.4g} B" if count >= 1e9 else f"{count / 1e6:.4g} M",
                          scheme, f"{memory.total_bytes / 1e9:.3g}", config.source)
    except SpecError as err:
        fail(str(err))
    console.print(table)
