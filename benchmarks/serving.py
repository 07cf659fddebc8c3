#!/usr/bin/env python3
"""Serving simulation speed: 10,000 Llama-2-7B requests on the H100 preset (target < 30 s).

Poisson arrivals at --rate for as long as --requests take on average (seed 0), 512-token
prompts, 128 output tokens, default policy (max batch 256, 8192 prefill tokens, 16-token KV
blocks, 256-token context buckets). Times the step model's first simulations (op memo empty)
and the whole run separately, and prints the serving figures so a change in them shows.
    .venv/bin/python benchmarks/serving.py [--requests 10000] [--rate 20] [--hw h100]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hwmodels.loader import load_hardware  # noqa: E402
from sim.serving import StepModel, device_memory, poisson_requests, simulate_serving  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--hw", default="h100")
    parser.add_argument("--model", default="llama2-7b")
    args = parser.parse_args()
    hw = load_hardware(args.hw)
    start = time.perf_counter()
    requests = poisson_requests(args.rate, args.requests / args.rate, 512, 128, seed=0)
    step = StepModel(args.model, hw)
    result = simulate_serving(requests, step, *device_memory(hw))
    wall = time.perf_counter() - start
    s = result.summary
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.machine())
    print(f"machine: {cpu}, CPython {platform.python_version()}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{s.requests} requests, {s.iterations} iterations, {len(step._ops)} distinct ops simulated: "
          f"wall {wall:.2f} s (target < 30 s)")
    print(f"simulated {s.makespan_s:.1f} s: {s.output_tokens_per_s:,.0f} output tokens/s, TTFT p50/p99 "
          f"{s.ttft_s['p50'] * 1e3:.1f}/{s.ttft_s['p99'] * 1e3:.1f} ms, TPOT p50/p99 {s.tpot_s['p50'] * 1e3:.2f}/"
          f"{s.tpot_s['p99'] * 1e3:.2f} ms, mean running {s.mean_running:.1f}, preemptions {s.preemptions}")


if __name__ == "__main__":
    main()
