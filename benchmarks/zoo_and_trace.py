#!/usr/bin/env python3
"""How fast the zoo builds workloads and the PyTorch tracer traces a ViT-B/16-sized model.

    .venv/bin/python benchmarks/zoo_and_trace.py [--repeats 50]

1. Zoo: time to build `llama2-70b:decode:batch=1,ctx=2048` (target < 50 ms): the first build
   in a fresh interpreter (configs read and validated) and the median of --repeats builds
   after it; the same with a by-name policy (keep first/last at W8A16, which splits ranged
   ops), and the median over every zoo model.
2. Tracer: a fresh interpreter imports torch, builds the reference ViT-B/16 module
   (tests/torch_models.py, with the zoo's vit-b16 config) under FakeTensorMode and traces it
   (target < 20 s, torch import included); the wall time of that subprocess is reported,
   and the traced MACs are compared with the zoo's vit-b16 and torchvision's 17.56 G.
The machine is named in the header.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIRST_BUILD = """
import time
start = time.perf_counter()
from workloads.zoo import load_zoo
imported = time.perf_counter()
load_zoo("llama2-70b:decode:batch=1,ctx=2048")
print(imported - start, time.perf_counter() - imported)
"""

TRACE = """
import sys, time
start = time.perf_counter()
import torch
imported = time.perf_counter()
sys.path.insert(0, {tests!r})
from torch_models import Vit
from workloads.trace_torch import trace_module
from workloads.zoo.config import zoo_configs
config = zoo_configs()["vit-b16"]
traced = trace_module(lambda: (Vit(config), torch.randn(1, 3, 224, 224))).workload
print(imported - start, time.perf_counter() - imported, traced.macs, len(traced.ops))
"""


def _median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")

    run = subprocess.run([sys.executable, "-c", FIRST_BUILD], capture_output=True, text=True, cwd=REPO, check=True)
    import_s, first_s = map(float, run.stdout.split())
    from workloads.quant import QuantPolicy
    from workloads.zoo import build, load_zoo, zoo_names
    spec = "llama2-70b:decode:batch=1,ctx=2048"
    warm = _median_ms(lambda: load_zoo(spec), args.repeats)
    keep = QuantPolicy(default="w4a16g128", keep_first_last="w8a16")
    with_policy = _median_ms(lambda: build("llama2-70b", phase="decode", ctx=2048, policy=keep), args.repeats)
    every = {name: _median_ms(lambda n=name: build(n), max(5, args.repeats // 10)) for name in zoo_names()}
    print(f"zoo {spec}: import {import_s * 1e3:.0f} ms, first build {first_s * 1e3:.1f} ms (reads models.yaml), "
          f"then median {warm:.2f} ms; with keep-first/last policy {with_policy:.2f} ms  [target < 50 ms]")
    slowest = max(every, key=every.get)
    print(f"zoo, every model (median of each): max {every[slowest]:.2f} ms ({slowest}), "
          f"mean {statistics.mean(every.values()):.2f} ms")

    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", TRACE.format(tests=str(REPO / "tests"))], capture_output=True,
                         text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        print(f"trace: failed (is the trace extra installed?): {run.stderr.strip().splitlines()[-1]}")
        return
    torch_s, trace_s, macs, ops = run.stdout.split()
    zoo_macs = build("vit-b16").macs
    print(f"trace ViT-B/16 (torch.export under FakeTensorMode): {wall:.1f} s wall in a fresh interpreter "
          f"(torch import {float(torch_s):.1f} s, build + export + convert {float(trace_s):.1f} s)  [target < 20 s]; "
          f"{ops} ops, {int(macs) / 1e9:.4g} G MACs (zoo {zoo_macs / 1e9:.4g} G, torchvision 17.56 G)")


if __name__ == "__main__":
    main()
