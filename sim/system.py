"""SimPy system layer: cores (a DMA engine and a compute engine each) sharing off-chip channels.

Event-driven at tile granularity, never per cycle. Per core, tile i needs `load[i]` cycles of
one channel to bring its operands and `compute[i]` cycles of the core's engine:
  - double buffering = `buffers` buffer slots per core: the DMA process takes a slot (waits while
    every slot holds a tile not yet computed), holds one channel (of `channels` independent
    channels shared by all cores) for load[i], and hands the full slot to the compute process,
    which computes for compute[i] and frees the slot;
  - tiles of a core compute in order; channels serve waiting transfers first come, first served.
With channels >= cores nothing contends and each core follows the tile engine's closed form
(sim.engine.walk_folds, load side):
    load_start[i]    = max(load_end[i-1], compute_end[i-buffers])
    compute_start[i] = max(compute_end[i-1], load_end[i])
shifted by load[0] (walk_folds counts from the end of the first tile's load).
Per tile the run schedules two timeouts (its load and its compute) and an event only when an
engine must wait (for a slot, a loaded tile or a channel): waits are plain `simpy.Event`s
succeeded by the engine that ends them, not store or resource round trips.
"""
from __future__ import annotations

from collections import deque
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
    pool = _ChannelPool(env, channels)
    ends: list[float] = [0.0] * len(cores)
    events = [0]

    def dma(core: _Core, loads: list[float]):
        for i, load in enumerate(loads):
            if i - core.computed >= buffers:  # every buffer slot holds a tile not yet computed
                core.dma_waiting = env.event()
                yield core.dma_waiting
            if not pool.take():
                yield pool.wait()
            yield env.timeout(load)
            pool.give()
            events[0] += 1
            core.loaded = i + 1
            if core.compute_waiting is not None:
                core.compute_waiting, waiting = None, core.compute_waiting
                waiting.succeed()

    def compute(index: int, core: _Core, computes: list[float]):
        for i, cycles in enumerate(computes):
            if core.loaded <= i:
                core.compute_waiting = env.event()
                yield core.compute_waiting
            yield env.timeout(cycles)
            core.computed = i + 1
            if core.dma_waiting is not None:
                core.dma_waiting, waiting = None, core.dma_waiting
                waiting.succeed()
        ends[index] = env.now

    for index, tiles in enumerate(cores):
        core = _Core()
        env.process(dma(core, tiles.load_cycles.tolist()))
        env.process(compute(index, core, tiles.compute_cycles.tolist()))
    env.run()
    return SystemRun(core_end=tuple(ends), makespan=max(ends) if ends else 0.0, channel_wait=pool.waited,
                     events=events[0])


class _Core:
    """Progress of one core: tiles loaded and computed, and the engine (if any) blocked on the other."""

    __slots__ = ("loaded", "computed", "dma_waiting", "compute_waiting")

    def __init__(self):
        self.loaded = self.computed = 0
        self.dma_waiting: simpy.Event | None = None
        self.compute_waiting: simpy.Event | None = None


class _ChannelPool:
    """`channels` identical channels; transfers that find none free wait first come, first served and
    are handed a channel directly when one is given back (a `simpy.Resource` without its request and
    release events for transfers that find a channel free)."""

    def __init__(self, env: simpy.Environment, channels: int):
        self.env, self.free, self.queue, self.waited = env, channels, deque(), 0.0

    def take(self) -> bool:
        if self.free:
            self.free -= 1
            return True
        return False

    def wait(self) -> simpy.Event:
        grant = self.env.event()
        self.queue.append((grant, self.env.now))
        return grant

    def give(self) -> None:
        if self.queue:
            grant, asked = self.queue.popleft()
            self.waited += self.env.now - asked
            grant.succeed()
        else:
            self.free += 1
