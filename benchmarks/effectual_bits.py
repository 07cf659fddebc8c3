"""Speed of the value-dependent kernels: effectual-bit lock-step work on a 4096 x 4096 INT8 tensor.

Measures `sim.values.lockstep_work` (popcount cost table, 16-lane lock-step groups, one thread)
in weights per second, against a plain-numpy implementation of the same computation, and the
per-element statistics kernels. Target (issue 3): >= 200 M weights/s per core.
Run: .venv/bin/python benchmarks/effectual_bits.py
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

from hwmodels.pe_bitserial import popcount_table
from sim import values


def best_of(fn, repeats=5) -> float:
    fn()  # compile / warm caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_lockstep(codes, table, offset, group):
    cost = table[codes - offset]
    lanes, steps = cost.shape
    return cost.reshape(lanes // group, group, steps).max(axis=1).sum(axis=1)


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    rng = np.random.default_rng(0)
    codes = np.clip(np.rint(rng.laplace(0, 20, size=(4096, 4096))), -128, 127).astype(np.int8)
    table = np.maximum(popcount_table(-128, 127), 1).astype(np.int64)
    n = codes.size
    kernel = best_of(lambda: values.lockstep_work(codes, table, -128, 16, 16))
    reference = best_of(lambda: numpy_lockstep(codes, table, -128, 16), repeats=2)
    assert np.array_equal(values.lockstep_work(codes, table, -128, 16, 16), numpy_lockstep(codes, table, -128, 16))
    mean = best_of(lambda: values.mean_cost(codes, table, -128))
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}; one thread")
    print(f"lockstep_work (effectual bits, 16-lane groups): {n / kernel / 1e6:8.1f} M weights/s "
          f"({kernel * 1e3:.1f} ms); numpy reference {n / reference / 1e6:.1f} M/s -> {reference / kernel:.1f}x")
    print(f"mean_cost:     {n / mean / 1e6:8.1f} M weights/s")


if __name__ == "__main__":
    main()
