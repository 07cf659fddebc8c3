"""Run batches of work on a Dask cluster: a local one by default, a remote one by scheduler address.

Local: a `distributed.LocalCluster` of single-threaded worker processes, one per core (or
`workers`), with Numba/OpenMP/BLAS threads pinned to 1 per worker. Remote (`scheduler` or
DASK_SCHEDULER_ADDRESS): `Client(address)`; the tasks are the same and carry everything
they need (no files), so workers only need quarch installed.

Items are cut into tasks sized to take about TARGET_TASK_S (from the measured time per
item, starting with small tasks to learn it), with two tasks per worker in flight; a task
takes at most an even share of the items left (len / (2 * workers)), so the workers finish
together. Each finished task is one store chunk: longer tasks mean fewer, larger writes for
the client process, which shares the machine with the workers. A local cluster's workers
import the simulator and load its compiled kernels once at start-up (`warm_up`), not in
their first task. Dask
re-runs the tasks of a worker that dies; a task it gives up on (KilledWorker after its
allowed retries) is handed to `lost(items, reason)` so the caller can record it.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from typing import Callable, Iterator

TARGET_TASK_S = 1.0
FIRST_TASK_ITEMS = 2
MAX_TASK_ITEMS = 5000
SINGLE_THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}


class DaskExecutor:
    """Context manager owning a Dask client (and the local cluster, if it made one)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.requested_workers = workers
        self.client = self._cluster = None

    def __enter__(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                from workloads.errors import SpecError
                raise SpecError(f"{self.scheduler!r}: cannot reach the Dask scheduler ({err})",
                                field="--scheduler") from None
        else:
            # Dask's status server cannot be switched off; a free loopback port avoids the
            # "port 8787 in use" warning and listens on no outside interface.
            self._cluster = LocalCluster(n_workers=self.requested_workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                                         silence_logs=logging.ERROR, env=SINGLE_THREAD_ENV)
            self.client = Client(self._cluster)
            self.client.run(warm_up)
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def imap(self, fn: Callable, items: list, shared, lost: Callable[[list, str], list]) -> Iterator[list]:
        """Yield `fn(task_items, shared)` for tasks covering `items`, as they finish (any order)."""
        from distributed import as_completed

        queue = deque(items)
        workers = self.workers
        per_item_s = None
        running = as_completed()
        batches = {}

        def submit() -> None:
            size = FIRST_TASK_ITEMS if per_item_s is None else \
                max(1, min(MAX_TASK_ITEMS, round(TARGET_TASK_S / max(per_item_s, 1e-6)),
                           -(-len(queue) // (2 * workers))))
            batch = [queue.popleft() for _ in range(min(size, len(queue)))]
            future = self.client.submit(_timed, fn, batch, shared, pure=False)
            batches[future.key] = batch
            running.add(future)

        while queue and running.count() < 2 * workers:
            submit()
        for future in running:
            batch = batches.pop(future.key)
            try:
                seconds, result = future.result()
            except Exception as err:  # noqa: BLE001 — KilledWorker and the like: record, go on
                result = lost(batch, f"{type(err).__name__}: {err}")
            else:
                sample = seconds / len(batch)
                per_item_s = sample if per_item_s is None else 0.5 * per_item_s + 0.5 * sample
            if queue:
                submit()
            yield result


def _timed(fn: Callable, batch: list, shared) -> tuple[float, list]:
    start = time.perf_counter()
    result = fn(batch, shared)
    return time.perf_counter() - start, result


def warm_up() -> None:
    """Import the evaluator and load its Numba kernels from the cache (compiling them if it is cold)."""
    from dse.evaluate import warm_up as load_kernels
    load_kernels()
