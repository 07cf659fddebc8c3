"""LLM serving simulation: arrivals, continuous batching, a paged KV cache, swapping over PCIe.

Event-driven at iteration granularity (one scheduler iteration = one forward pass, as in
Orca/vLLM); arrival times are known up front (Poisson with a seed, or a trace), so the loop
advances time by each iteration's latency and jumps over idle gaps to the next arrival.

Requests: arrival_s, prompt_tokens p, output_tokens o. A request's prefill iteration produces
its first token (TTFT = end of that iteration - arrival); each decode iteration it runs in
produces one more; it finishes with its o-th token.
    TTFT = first_token_s - arrival_s,  TPOT = (finish_s - first_token_s) / (o - 1)  (o > 1),
    end-to-end = finish_s - arrival_s.

KV cache (paged, vLLM-style): blocks of `block_tokens` positions, each
    kv_bytes_per_token = bytes the zoo model's `kv_write` ops store per token (all layers, KV format)
    capacity_blocks = floor((device memory - weight memory - reserve) / (block_tokens * kv_bytes_per_token))
with reserve = reserve_fraction * device memory (activations, workspace; vLLM's default
gpu_memory_utilization = 0.9 leaves 10 %). A request holds ceil(positions / block_tokens) blocks
for the positions it has written: p after its prefill, p + g - 1 ... p + g during the decode step
that produces token g + 1. Blocks in use never exceed capacity_blocks (checked every iteration).

Scheduler, each iteration (vLLM v0's default policy, prefill-prioritized, FCFS):
  1. swapped requests come back first (oldest first) while the batch has room (< max_batch) and
     the blocks they swapped out plus one block of headroom fit; no new prefill is admitted while any is swapped;
  2. otherwise waiting requests are admitted in arrival order while the batch has room, the
     prompts' tokens stay <= max_batched_tokens (one prompt is always allowed alone) and their
     blocks for p + 1 positions fit; if any was admitted, the iteration is a prefill of those
     prompts only (running decodes wait one iteration);
  3. otherwise a decode iteration of every running request: a request needing one more block
     when none is free preempts the most recently arrived running request, whose blocks are
     swapped out to host memory (unbounded) until enough are free.
  Swap time (out and in) = blocks * block_tokens * kv_bytes_per_token / host_link_bytes_per_s,
  charged to the iteration in which it happens (on the critical path, as vLLM's blocking swap).

Iteration latency from the target's model (sim.simulate_op of the zoo workload's ops,
memoized by op shape/format/hardware through `StepModel`):
  decode(b, contexts)  = sum over batch ops of t(op @ decode batch=b)
                       + sum over context ops of t(op @ decode batch=b, ctx=bucket(mean(contexts)))
  prefill(prompts)     = sum over batch ops of t(op @ prefill batch=1, seq=bucket64(sum p))
                       + sum_i sum over context ops of t(op @ prefill batch=1, seq=bucket64(p_i))
Context ops are those whose shape changes with ctx (found by building the decode step at two
contexts: attention score, softmax, value); all other ops depend on the tokens only.
bucket(c) = c rounded up to a multiple of `context_bucket_tokens` (default 256), capped at the
model's maximum positions; bucket64 rounds up to 64 tokens. The prefill's LM head runs on one
position (batch=1), not one per admitted prompt (a GEMV either way).
Every t(op) includes the op's repeat (layers).
"""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodels.spec import Hardware
from sim.simulate import simulate_op
from workloads.errors import SpecError
from workloads.zoo import is_zoo_name, load_zoo, model_weight_memory
from workloads.zoo.config import DecoderConfig, zoo_configs

TRACE_COLUMNS = ("arrival_s", "prompt_tokens", "output_tokens")
PREFILL_BUCKET_TOKENS = 64
_SCHEDULER_KEYS = ("phase", "batch", "ctx", "seq")


@dataclass(frozen=True)
class Request:
    arrival_s: float
    prompt_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class ServingPolicy:
    """Scheduler limits and KV-cache layout (module docstring)."""

    max_batch: int = 256                 # vLLM max_num_seqs default
    max_batched_tokens: int = 8192       # prompt tokens one prefill iteration may take
    block_tokens: int = 16               # vLLM block_size default
    context_bucket_tokens: int = 256
    reserve_fraction: float = 0.10       # 1 - vLLM gpu_memory_utilization (0.9)

    def __post_init__(self):
        for name in ("max_batch", "max_batched_tokens", "block_tokens", "context_bucket_tokens"):
            if getattr(self, name) < 1:
                raise SpecError(f"{getattr(self, name)} not allowed: a positive integer",
                                field="--" + name.replace("_", "-"))
        if not 0 <= self.reserve_fraction < 1:
            raise SpecError(f"{self.reserve_fraction} not allowed: in [0, 1)", field="reserve_fraction")


# ---------------------------------------------------------------- requests

def poisson_requests(rate_per_s: float, duration_s: float, prompt_tokens: int, output_tokens: int,
                     seed: int = 0) -> list[Request]:
    """Arrivals of a Poisson process of `rate_per_s` in [0, duration_s) (exponential gaps, numpy seed)."""
    if not rate_per_s > 0 or not math.isfinite(rate_per_s):
        raise SpecError(f"{rate_per_s} not allowed: a rate > 0 requests/s", field="--rate")
    if not duration_s > 0 or not math.isfinite(duration_s):
        raise SpecError(f"{duration_s} not allowed: a duration > 0 s", field="--duration")
    for name, value in (("--prompt-tokens", prompt_tokens), ("--output-tokens", output_tokens)):
        if value < 1:
            raise SpecError(f"{value} not allowed: a positive integer", field=name)
    rng = np.random.default_rng(seed)
    expected = rate_per_s * duration_s
    gaps = rng.exponential(1 / rate_per_s, size=int(expected + 10 * math.sqrt(expected) + 10))
    times = np.cumsum(gaps)
    while times[-1] < duration_s:  # not reached for any practical rate; keeps the process exact
        times = np.concatenate([times, times[-1] + np.cumsum(rng.exponential(1 / rate_per_s, size=len(times)))])
    return [Request(float(t), prompt_tokens, output_tokens) for t in times[times < duration_s]]


def load_request_trace(path: str | Path) -> list[Request]:
    """Requests from a CSV trace: header `arrival_s,prompt_tokens,output_tokens`, one request per row,
    arrival_s finite, >= 0 and non-decreasing, token counts positive integers."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"cannot read: {err.strerror}", file=path) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(c.strip() for c in rows[0]) != TRACE_COLUMNS:
        raise SpecError(f"header {','.join(rows[0]) if rows else '(empty file)'!r} not allowed: the first line must be "
                        f"{','.join(TRACE_COLUMNS)}", file=path, field="header")
    requests, last = [], 0.0
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise SpecError(f"{len(row)} values not allowed: 3 ({','.join(TRACE_COLUMNS)})", file=path,
                            field=f"line {line}")
        cells = [cell.strip() for cell in row]
        try:
            arrival = float(cells[0])
        except ValueError:
            arrival = math.nan
        if not math.isfinite(arrival) or arrival < last:
            raise SpecError(f"{cells[0]!r} not allowed: a finite time >= 0 and >= the previous row's ({last:g})",
                            file=path, field=f"line {line} arrival_s")
        tokens = []
        for name, cell in zip(TRACE_COLUMNS[1:], cells[1:]):
            if not cell.isdigit() or int(cell) < 1:
                raise SpecError(f"{cell!r} not allowed: a positive integer", file=path, field=f"line {line} {name}")
            tokens.append(int(cell))
        requests.append(Request(arrival, *tokens))
        last = arrival
    if not requests:
        raise SpecError("no requests: at least one row after the header", file=path)
    return requests


# ---------------------------------------------------------------- per-iteration latency

class StepModel:
    """Iteration latencies and KV/weight sizes of a zoo LLM on `hw` (formulas: module docstring).

    `model` is a zoo decoder name with optional quant=/kv=/policy=/layers= (e.g.
    `llama2-7b:quant=w4a16g128,kv=int8`); batch, context and phase are the scheduler's.
    """

    def __init__(self, model: str, hw: Hardware, context_bucket_tokens: int = 256):
        self.name, self.options = _serving_model(model)
        self.hw = hw
        self.bucket = context_bucket_tokens
        self.max_positions = zoo_configs()[self.name].max_positions
        one = self._workload("decode", 1, 1)
        other = self._workload("decode", 1, 2)
        self.context_ops = frozenset(a.name for a, b in zip(one.ops, other.ops) if a != b)
        self.kv_bytes_per_token = sum(op.formats.output_bytes(op.output_elements) * op.repeat
                                      for op in one.ops if getattr(op, "operation", None) == "kv_write")
        if self.kv_bytes_per_token <= 0:
            raise SpecError(f"{model!r} writes no KV cache: serving needs a decoder LLM", field="--workload")
        self.weight_bytes = model_weight_memory(self.name, one).total_bytes
        self._ops: dict[str, float] = {}
        self._decode_batch: dict[int, float] = {}
        self._decode_context: dict[tuple[int, int], float] = {}
        self._prefill_tokens: dict[int, float] = {}
        self._prefill_context: dict[int, float] = {}

    def _workload(self, phase: str, batch: int, length: int):
        key = "ctx" if phase == "decode" else "seq"
        extra = f",{self.options}" if self.options else ""
        return load_zoo(f"{self.name}:{phase}:batch={batch},{key}={length}{extra}")

    def _latency(self, workload, context: bool) -> float:
        """Summed latency (repeats applied) of the workload's context ops or its other ops."""
        total = 0.0
        for op in workload.ops:
            if (op.name in self.context_ops) != context:
                continue
            key = op.model_dump_json(exclude={"name", "repeat"})
            if key not in self._ops:
                self._ops[key] = simulate_op(op, self.hw).latency_s
            total += self._ops[key] * op.repeat
        return total

    def context_bucket(self, context: float) -> int:
        return min(self.max_positions, _round_up(context, self.bucket))

    def decode_s(self, batch: int, mean_context: float) -> float:
        """One decode iteration of `batch` sequences attending to `mean_context` positions on average."""
        if batch not in self._decode_batch:
            self._decode_batch[batch] = self._latency(self._workload("decode", batch, 1), context=False)
        key = (batch, self.context_bucket(mean_context))
        if key not in self._decode_context:
            self._decode_context[key] = self._latency(self._workload("decode", *key), context=True)
        return self._decode_batch[batch] + self._decode_context[key]

    def prefill_s(self, prompts: list[int] | tuple[int, ...]) -> float:
        """One prefill iteration of these prompts (token ops on all their tokens, attention per prompt)."""
        tokens = min(self.max_positions, _round_up(sum(prompts), PREFILL_BUCKET_TOKENS))
        if tokens not in self._prefill_tokens:
            self._prefill_tokens[tokens] = self._latency(self._workload("prefill", 1, tokens), context=False)
        total = self._prefill_tokens[tokens]
        for prompt in prompts:
            seq = min(self.max_positions, _round_up(prompt, PREFILL_BUCKET_TOKENS))
            if seq not in self._prefill_context:
                self._prefill_context[seq] = self._latency(self._workload("prefill", 1, seq), context=True)
            total += self._prefill_context[seq]
        return total


def _round_up(value: float, step: int) -> int:
    """`value` rounded up to a multiple of `step`, at least `step`."""
    return max(1, math.ceil(value / step)) * step


def _serving_model(spec: str) -> tuple[str, str]:
    """(zoo model name, its option string) of a serving model spec; refuses non-LLMs and scheduler keys."""
    llms = ", ".join(n for n, c in zoo_configs().items() if isinstance(c, DecoderConfig))
    if not is_zoo_name(spec):
        raise SpecError(f"{spec!r} not allowed: a decoder LLM of the zoo ({llms})", field="--workload")
    name, *parts = spec.split(":")
    name = name.lower()
    if not isinstance(zoo_configs()[name], DecoderConfig):
        raise SpecError(f"{name!r} is not an LLM: serving needs a decoder LLM of the zoo ({llms})",
                        field="--workload")
    options = []
    for part in parts:
        for item in filter(None, (p.strip() for p in part.split(","))):
            key = item.partition("=")[0].strip().lower()
            if "=" not in item or key in _SCHEDULER_KEYS:
                raise SpecError(f"{item!r} in {spec!r} not allowed: the scheduler sets phase, batch and context; "
                                "give quant=, kv=, policy= or layers=", field="--workload")
            options.append(item)
    options_text = ",".join(options)
    load_zoo(f"{name}:decode:batch=1,ctx=1" + (f",{options_text}" if options_text else ""))  # validates options
    return name, options_text


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class ServingSummary:
    """Whole-run figures: latency percentiles (s), throughput and concurrency."""

    requests: int
    makespan_s: float
    ttft_s: dict[str, float]
    tpot_s: dict[str, float]
    e2e_s: dict[str, float]
    output_tokens_per_s: float
    prompt_tokens_per_s: float
    requests_per_s: float
    mean_running: float
    max_running: int
    mean_in_system: float
    kv_capacity_tokens: int
    kv_bytes_per_token: float
    weight_bytes: float
    preemptions: int
    swapped_bytes: float
    swap_time_s: float
    iterations: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ServingResult:
    """Per-request rows, per-iteration timeline (concurrency over time) and the summary."""

    requests: pd.DataFrame
    timeline: pd.DataFrame
    summary: ServingSummary
    policy: ServingPolicy = field(default_factory=ServingPolicy)


def _percentiles(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {"mean": math.nan, "p50": math.nan, "p90": math.nan, "p99": math.nan}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {"mean": float(values.mean()), "p50": float(p50), "p90": float(p90), "p99": float(p99)}


# ---------------------------------------------------------------- the scheduler loop

def kv_capacity_blocks(step: StepModel, device_bytes: float, policy: ServingPolicy) -> int:
    """Blocks the KV cache holds (module docstring); SpecError when the weights leave no room."""
    free = device_bytes * (1 - policy.reserve_fraction) - step.weight_bytes
    blocks = int(free // (policy.block_tokens * step.kv_bytes_per_token))
    if blocks < 1:
        raise SpecError(f"{step.weight_bytes / 2**30:.1f} GiB of weights leave no KV-cache room in "
                        f"{device_bytes / 2**30:.1f} GiB of device memory ({policy.reserve_fraction:.0%} reserved)",
                        field="--hw")
    return blocks


def simulate_serving(requests: list[Request], step: StepModel, device_bytes: float, host_link_bytes_per_s: float,
                     policy: ServingPolicy = ServingPolicy()) -> ServingResult:
    """Serve `requests` (sorted by arrival) with the scheduler of the module docstring."""
    n = len(requests)
    capacity = kv_capacity_blocks(step, device_bytes, policy)
    block_tokens = policy.block_tokens

    def blocks(positions: int) -> int:
        return -(-positions // block_tokens)

    arrival = np.array([r.arrival_s for r in requests], dtype=float)
    prompt = np.array([r.prompt_tokens for r in requests], dtype=np.int64)
    output = np.array([r.output_tokens for r in requests], dtype=np.int64)
    if n and np.any(np.diff(arrival) < 0):
        raise SpecError("requests must be sorted by arrival time", field="requests")
    for i in range(n):
        positions = int(prompt[i] + output[i] - 1)
        if positions > step.max_positions or blocks(positions) + 1 > capacity:
            raise SpecError(f"request {i} ({prompt[i]} prompt + {output[i]} output tokens) not allowed: at most "
                            f"{min(step.max_positions, (capacity - 1) * block_tokens)} positions (model limit "
                            f"{step.max_positions}, KV cache {capacity * block_tokens} tokens)", field="requests")
    generated = np.zeros(n, dtype=np.int64)
    held = np.zeros(n, dtype=np.int64)       # blocks on the device
    on_host = np.zeros(n, dtype=np.int64)    # blocks swapped out
    first = np.full(n, np.nan)
    finish = np.full(n, np.nan)
    preempted = np.zeros(n, dtype=np.int64)
    block_bytes = block_tokens * step.kv_bytes_per_token

    running: list[int] = []   # in arrival order
    waiting: list[int] = []   # FIFO (index of head kept separately)
    swapped: list[int] = []   # oldest first
    head = next_arrival = 0
    now, used = 0.0, 0
    swapped_bytes = swap_time = 0.0
    preemptions = 0
    rows: list[tuple] = []

    while next_arrival < n or head < len(waiting) or running or swapped:
        while next_arrival < n and arrival[next_arrival] <= now:
            waiting.append(next_arrival)
            next_arrival += 1
        if not running and not swapped and head == len(waiting):
            now = arrival[next_arrival]
            continue
        start, transfer = now, 0.0
        # 1. swap in, oldest first
        while swapped and len(running) < policy.max_batch:
            r = swapped[0]
            need = int(on_host[r])
            if used + need + 1 > capacity:
                break
            swapped.pop(0)
            held[r], on_host[r], used = need, 0, used + need
            transfer += need * block_bytes / host_link_bytes_per_s
            swapped_bytes += need * block_bytes
            running.append(r)
            running.sort()
        # 2. prefill of newly admitted prompts
        admitted, tokens = [], 0
        while not swapped and head < len(waiting) and len(running) + len(admitted) < policy.max_batch:
            r = waiting[head]
            need = blocks(int(prompt[r]) + 1)
            if (admitted and tokens + prompt[r] > policy.max_batched_tokens) or used + need > capacity:
                break
            admitted.append(r)
            tokens += int(prompt[r])
            held[r] = blocks(int(prompt[r]))
            used += held[r]
            head += 1
        if admitted:
            now += step.prefill_s([int(prompt[r]) for r in admitted]) + transfer
            kind, batch = "prefill", len(admitted)
            for r in admitted:
                generated[r], first[r] = 1, now
                if output[r] == 1:
                    finish[r], used, held[r] = now, used - held[r], 0
                else:
                    running.append(r)
            running.sort()
        else:
            # 3. decode: each running request writes position prompt + generated
            grow = [r for r in running if blocks(int(prompt[r] + generated[r])) > held[r]]
            while used + len(grow) > capacity:  # preempt the newest, swapping its blocks to the host
                victim = running.pop()
                used -= held[victim]
                transfer += held[victim] * block_bytes / host_link_bytes_per_s
                swapped_bytes += held[victim] * block_bytes
                on_host[victim], held[victim] = held[victim], 0
                preempted[victim] += 1
                preemptions += 1
                swapped.append(victim)
                swapped.sort()
                grow = [r for r in grow if r != victim]
            for r in grow:
                held[r] += 1
            used += len(grow)
            batch = len(running)
            if batch:
                idx = np.array(running)
                contexts = prompt[idx] + generated[idx]
                now += step.decode_s(batch, float(contexts.mean())) + transfer
                generated[idx] += 1
                done = idx[generated[idx] == output[idx]]
                finish[done] = now
                used -= int(held[done].sum())
                held[done] = 0
                if len(done):
                    finished = set(done.tolist())
                    running = [r for r in running if r not in finished]
            else:
                now += transfer
            kind, tokens = "decode", batch
        swap_time += transfer
        assert used <= capacity and used == held.sum(), "KV block accounting broke"
        rows.append((start, now, kind, batch, tokens, len(running), len(waiting) - head, len(swapped), used, transfer))
        if head > 4096:  # drop served entries of the FIFO now and then
            waiting, head = waiting[head:], 0

    timeline = pd.DataFrame(rows, columns=["start_s", "end_s", "kind", "batch", "tokens", "running", "waiting",
                                           "swapped", "kv_blocks_used", "swap_s"])
    timeline["kv_capacity_blocks"] = capacity
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(output > 1, (finish - first) / (output - 1), np.nan)
    per_request = pd.DataFrame({"arrival_s": arrival, "prompt_tokens": prompt, "output_tokens": output,
                                "first_token_s": first, "finish_s": finish, "ttft_s": first - arrival,
                                "tpot_s": tpot, "e2e_s": finish - arrival, "preemptions": preempted})
    makespan = float(finish.max() - arrival.min()) if n else 0.0
    busy = (timeline.end_s - timeline.start_s).to_numpy()
    in_system = (timeline.running + timeline.waiting + timeline.swapped).to_numpy()
    summary = ServingSummary(
        requests=n, makespan_s=makespan, ttft_s=_percentiles(per_request.ttft_s.to_numpy()),
        tpot_s=_percentiles(tpot[~np.isnan(tpot)]), e2e_s=_percentiles(per_request.e2e_s.to_numpy()),
        output_tokens_per_s=float(output.sum() / makespan) if makespan else 0.0,
        prompt_tokens_per_s=float(prompt.sum() / makespan) if makespan else 0.0,
        requests_per_s=n / makespan if makespan else 0.0,
        mean_running=float((busy * timeline.running).sum() / makespan) if makespan else 0.0,
        max_running=int(timeline.running.max()) if len(timeline) else 0,
        mean_in_system=float((busy * in_system).sum() / makespan) if makespan else 0.0,
        kv_capacity_tokens=capacity * block_tokens, kv_bytes_per_token=float(step.kv_bytes_per_token),
        weight_bytes=float(step.weight_bytes), preemptions=preemptions, swapped_bytes=swapped_bytes,
        swap_time_s=swap_time, iterations=len(timeline))
    return ServingResult(requests=per_request, timeline=timeline, summary=summary, policy=policy)


def device_memory(hw: Hardware) -> tuple[float | None, float | None]:
    """(device memory bytes, host link bytes/s) a preset states, None where it states none."""
    if hw.gpu is not None:
        return float(hw.gpu.dram_capacity_bytes), float(hw.gpu.host_link_bytes_per_s)
    if getattr(hw, "fpga", None) is not None:
        return float(hw.fpga.offchip_capacity_bytes), None
    return None, None
