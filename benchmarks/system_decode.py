#!/usr/bin/env python3
"""SimPy system layer speed: one Llama-2-7B decode step (32 layers, batch 1) on a 4-core design
sharing 32 HBM pseudo-channels (U280-like: 14.375 GB/s x 0.66 per channel at 225 MHz).

Each GEMM's weights are cut into tiles of --tile-kb (what one core buffer holds), dealt round-robin
to the cores; a tile's load holds one channel for bytes / channel bandwidth, its compute lasts
MACs / (rows x cols) on a 64x64 array per core. Prints the wall time of each of --repeats runs,
events, simulated step time, the machine and its load.
    .venv/bin/python benchmarks/system_decode.py [--tile-kb 256] [--channels 32] [--repeats 3]
Before the engines' waits became plain events (SimPy stores and resources per tile, 8 events a
tile): 3.4-4.3 s on 2 loaded EPYC cores (load ~6); after (2-3 events a tile): 0.47-0.61 s.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from sim.system import CoreTiles, run_system
from workloads.builtin import llama2_7b_decode_layer
from workloads.ops import Gemm


def decode_tiles(cores: int, tile_bytes: int, clock_hz: float, channel_bytes_per_s: float, macs_per_cycle: int):
    loads: list[list[float]] = [[] for _ in range(cores)]
    computes: list[list[float]] = [[] for _ in range(cores)]
    per_cycle = channel_bytes_per_s / clock_hz
    turn = 0
    for _ in range(32):  # layers
        for op in llama2_7b_decode_layer().ops:
            if not isinstance(op, Gemm):
                continue
            total = op.formats.weight_bytes(op.k * op.n) * op.batch
            tiles = max(1, int(np.ceil(total / tile_bytes)))
            macs = op.macs / tiles
            for _ in range(tiles):
                loads[turn % cores].append(np.ceil(total / tiles / per_cycle))
                computes[turn % cores].append(np.ceil(macs / macs_per_cycle))
                turn += 1
    return [CoreTiles(np.array(a), np.array(b)) for a, b in zip(loads, computes)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tile-kb", type=int, default=256)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    clock = 225e6
    cores = decode_tiles(4, args.tile_kb * 1024, clock, 14.375e9 * 0.66, 64 * 64)
    walls = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run = run_system(cores, channels=args.channels)
        walls.append(time.perf_counter() - start)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.machine())
    print(f"machine: {cpu}, {platform.python_implementation()} "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"tiles: {sum(len(c.load_cycles) for c in cores)}, transfers: {run.events}, "
          f"wall: {', '.join(f'{w:.3f}' for w in walls)} s (target < 1 s), "
          f"simulated step: {run.makespan / clock * 1e3:.2f} ms, channel wait: {run.channel_wait:.0f} cycles")


if __name__ == "__main__":
    main()
