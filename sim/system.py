"""SimPy system layer: cores (a DMA engine and a compute engine each) sharing off-chip channels.

Event-driven at tile granularity, never per cycle. Per core, tile i needs `load[i]` cycles of
one channel to bring its operands and `compute[i]` cycles of the core's engine:
  - double buffering = a bounded store of `buffers` free buffer slots: the DMA process takes a
    slot, holds one channel (a `simpy.Resource` of `channels` independent channels shared by
    all cores) for load[i], and hands the full slot to the compute process, which computes for
    compute[i] and frees the slot;
  - tiles of a core compute in order; channels serve waiting transfers first come, first served.
With channels >= cores nothing contends and each core follows the tile engine's closed form
(sim.engine.walk_folds, load side):
    load_start[i]    = max(load_end[i-1], compute_end[i-buffers])
    compute_start[i] = max(compute_end[i-1], load_end[i])
shifted by load[0] (walk_folds counts from the end of the first tile's load).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy


@dataclass(frozen=True)
class CoreTiles:
    """The tiles one core runs, in order: load cycles (on one channel) and compute cycles each."""

    load_cycles: np.ndarray
    compute_cycles: np.ndarray


@dataclass(frozen=True)
class SystemRun:
    """When each core finished, the makespan, and how long transfers waited for a channel."""

    core_end: tuple[float, ...]
    makespan: float
    channel_wait: float
    events: int


def run_system(cores: list[CoreTiles], channels: int, buffers: int = 2) -> SystemRun:
    """Run every core's tiles against `channels` shared channels (module docstring)."""
    env = simpy.Environment()
    link = simpy.Resource(env, capacity=channels)
    ends: list[float] = [0.0] * len(cores)
    waited = [0.0]
    events = [0]

    def dma(tiles: CoreTiles, free: simpy.Store, full: simpy.Store):
        for i, load in enumerate(tiles.load_cycles.tolist()):
            yield free.get()
            asked = env.now
            with link.request() as grant:
                yield grant
                waited[0] += env.now - asked
                yield env.timeout(load)
            events[0] += 1
            yield full.put(i)

    def compute(index: int, tiles: CoreTiles, free: simpy.Store, full: simpy.Store):
        for cycles in tiles.compute_cycles.tolist():
            yield full.get()
            yield env.timeout(cycles)
            yield free.put(None)
        ends[index] = env.now

    for index, tiles in enumerate(cores):
        free = simpy.Store(env, capacity=buffers)
        free.items.extend([None] * buffers)
        full = simpy.Store(env, capacity=buffers)
        env.process(dma(tiles, free, full))
        env.process(compute(index, tiles, free, full))
    env.run()
    return SystemRun(core_end=tuple(ends), makespan=max(ends) if ends else 0.0, channel_wait=waited[0],
                     events=events[0])
