"""`quarch serve`: an LLM serving run (sim.serving) on one design — TTFT, TPOT, latency, throughput."""
from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from hwmodels.loader import load_hardware
from hwmodels.pe import Infeasible
from quarch.cli import app, console, fail
from sim.serving import (ServingPolicy, StepModel, device_memory, load_request_trace, poisson_requests,
                         simulate_serving)
from workloads.errors import SpecError


class ServeFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("serve")
def serve_command(
    hw: Annotated[str, typer.Option("--hw", help="Preset name or quarch YAML file")],
    workload: Annotated[str, typer.Option("--workload", help="Zoo decoder LLM (e.g. llama2-7b or "
                                          "llama2-7b:quant=w4a16g128,kv=int8) with Poisson arrivals, or a request "
                                          "trace .csv (arrival_s,prompt_tokens,output_tokens) served with --model")],
    rate: Annotated[Optional[float], typer.Option("--rate", help="Poisson arrivals, requests/s")] = None,
    duration: Annotated[Optional[float], typer.Option("--duration", help="Arrival window, s")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Zoo decoder LLM serving a trace")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Poisson arrivals")] = 0,
    prompt_tokens: Annotated[int, typer.Option("--prompt-tokens", help="Prompt length of Poisson requests")] = 512,
    output_tokens: Annotated[int, typer.Option("--output-tokens", help="Output length of Poisson requests")] = 128,
    max_batch: Annotated[int, typer.Option("--max-batch", help="Sequences per iteration at most")] = 256,
    max_batched_tokens: Annotated[int, typer.Option("--max-batched-tokens",
                                                    help="Prompt tokens per prefill iteration at most")] = 8192,
    device_memory_gb: Annotated[Optional[float], typer.Option("--device-memory-gb",
                                                              help="Device memory (default: the preset's)")] = None,
    host_link_gbs: Annotated[Optional[float], typer.Option("--host-link-gbs",
                                                           help="KV swap link GB/s (default: the preset's)")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a hardware field: key.path=value")
                    ] = None,
    output: Annotated[ServeFormat, typer.Option("--format", help="Output format")] = ServeFormat.table,
) -> None:
    """Serve an LLM on one design: continuous batching, paged KV cache, swapping over the host link."""
    try:
        design = load_hardware(hw, set_ or [])
        trace = Path(workload).suffix == ".csv"
        if trace:
            if model is None:
                raise SpecError("a request trace needs --model (a zoo decoder LLM, e.g. llama2-7b)", field="--model")
            if rate is not None or duration is not None:
                raise SpecError("--rate/--duration apply to Poisson arrivals, not to a trace", field="--rate")
            requests = load_request_trace(workload)
        else:
            if model is not None:
                raise SpecError("--model applies to a trace; give the LLM as --workload", field="--model")
            if rate is None or duration is None:
                raise SpecError("Poisson arrivals need --rate (requests/s) and --duration (s)", field="--rate")
            requests = poisson_requests(rate, duration, prompt_tokens, output_tokens, seed)
            if not requests:
                raise SpecError(f"no request arrives in {duration} s at {rate}/s: raise --rate or --duration",
                                field="--duration")
        memory, link = device_memory(design)
        memory = device_memory_gb * 1e9 if device_memory_gb is not None else memory
        link = host_link_gbs * 1e9 if host_link_gbs is not None else link
        for name, value, what in (("--device-memory-gb", memory, "device memory"),
                                  ("--host-link-gbs", link, "host link bandwidth")):
            if value is None:
                raise SpecError(f"{design.name} states no {what}: give it with {name}", field=name)
            if not value > 0:
                raise SpecError(f"{value / 1e9:g} not allowed: a positive number", field=name)
        policy = ServingPolicy(max_batch=max_batch, max_batched_tokens=max_batched_tokens)
        step = StepModel(model or workload, design, policy.context_bucket_tokens)
        result = simulate_serving(requests, step, memory, link, policy)
    except (SpecError, Infeasible) as err:
        fail(str(err))
    s = result.summary
    if output is ServeFormat.json:
        typer.echo(json.dumps({"design": design.name, "model": model or workload, "summary": s.to_dict()}, indent=1))
        return
    table = Table(title=f"{model or workload} served on {design.name}: {s.requests} requests, "
                        f"{s.makespan_s:.4g} s, KV cache {s.kv_capacity_tokens:,} tokens")
    for column in ("metric", "mean", "p50", "p90", "p99"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for label, figures in (("TTFT ms", s.ttft_s), ("TPOT ms", s.tpot_s), ("end-to-end ms", s.e2e_s)):
        table.add_row(label, *(f"{figures[k] * 1e3:.4g}" for k in ("mean", "p50", "p90", "p99")))
    console.print(table)
    console.print(f"throughput: {s.output_tokens_per_s:,.1f} output tokens/s, {s.prompt_tokens_per_s:,.1f} prompt "
                  f"tokens/s, {s.requests_per_s:.3g} requests/s; running sequences mean {s.mean_running:.3g}, "
                  f"max {s.max_running}; preemptions {s.preemptions} ({s.swapped_bytes / 1e9:.3g} GB swapped, "
                  f"{s.swap_time_s * 1e3:.3g} ms on the host link)", highlight=False)
