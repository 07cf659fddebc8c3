"""The LLM serving simulation against hand calculations, Little's law and its own invariants; `quarch serve`."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hwmodels.loader import load_hardware
from sim.serving import (Request, ServingPolicy, StepModel, device_memory, kv_capacity_blocks, load_request_trace,
                         poisson_requests, simulate_serving)
from workloads.errors import SpecError
from workloads.zoo import load_zoo

MODEL = "llama2-7b:layers=2"
NO_RESERVE = ServingPolicy(reserve_fraction=0.0)


@pytest.fixture(scope="module")
def step() -> StepModel:
    return StepModel(MODEL, load_hardware("h100"))


def memory_for(step: StepModel, blocks: int, policy: ServingPolicy = NO_RESERVE) -> float:
    """Device bytes that leave exactly `blocks` KV blocks after the weights."""
    return step.weight_bytes + blocks * policy.block_tokens * step.kv_bytes_per_token + 1.0


def test_kv_bytes_per_token_and_capacity_by_hand(step):
    # Llama-2: 2 (K and V) x 32 KV heads x 128 dims x 2 B (fp16) per layer; 2 layers here
    assert step.kv_bytes_per_token == 2 * 32 * 128 * 2 * 2
    hw = load_hardware("h100")
    memory, _ = device_memory(hw)
    expected = math.floor((80 * 2**30 * 0.9 - step.weight_bytes) / (16 * step.kv_bytes_per_token))
    assert kv_capacity_blocks(step, memory, ServingPolicy()) == expected
    with pytest.raises(SpecError, match="no KV-cache room"):
        kv_capacity_blocks(step, step.weight_bytes * 0.5, ServingPolicy())


def test_context_ops_are_the_attention_ops(step):
    assert {name.rsplit(".", 1)[-1] for name in step.context_ops} == {"score", "softmax", "value"}


def test_step_latency_is_the_sum_of_simulated_op_latencies(step):
    from sim.simulate import simulate
    hw = load_hardware("h100")
    decode = simulate(load_zoo(f"llama2-7b:decode:batch=8,ctx=1024,layers=2"), hw).total.latency_s
    assert step.decode_s(8, 1000) == pytest.approx(decode, rel=1e-9)  # 1000 rounds up to the 1024 bucket
    prefill = simulate(load_zoo("llama2-7b:prefill:batch=1,seq=512,layers=2"), hw).total.latency_s
    assert step.prefill_s([500]) == pytest.approx(prefill, rel=1e-9)  # 500 rounds up to 512
    # two prompts: token ops on all 1024 tokens, attention of each 512-token prompt
    ops_1024 = simulate(load_zoo("llama2-7b:prefill:batch=1,seq=1024,layers=2"), hw).ops
    ops_512 = simulate(load_zoo("llama2-7b:prefill:batch=1,seq=512,layers=2"), hw).ops
    tokens = sum(o.latency_s * o.repeat for o in ops_1024 if o.name not in step.context_ops)
    attention = sum(o.latency_s * o.repeat for o in ops_512 if o.name in step.context_ops)
    assert step.prefill_s([512, 512]) == pytest.approx(tokens + 2 * attention, rel=1e-9)


def test_one_request_alone_ttft_is_prefill_and_tpot_is_the_decode_steps(step):
    p, o = 300, 20
    run = simulate_serving([Request(1.5, p, o)], step, memory_for(step, 1000), 32e9, NO_RESERVE)
    row = run.requests.iloc[0]
    assert row.ttft_s == pytest.approx(step.prefill_s([p]))
    decode = [step.decode_s(1, p + g) for g in range(1, o)]  # token g+1 attends to p + g positions
    assert row.tpot_s == pytest.approx(sum(decode) / (o - 1))
    assert row.e2e_s == pytest.approx(step.prefill_s([p]) + sum(decode))
    assert run.summary.iterations == o and run.summary.preemptions == 0


def test_two_requests_with_room_for_one_queue(step):
    p, o = 512, 64
    blocks_one = math.ceil((p + o - 1) / 16) + 1  # the first at its longest, plus one block of headroom
    run = simulate_serving([Request(0.0, p, o), Request(0.0, p, o)], step, memory_for(step, blocks_one), 32e9,
                           NO_RESERVE)
    first, second = run.requests.iloc[0], run.requests.iloc[1]
    assert second.first_token_s == pytest.approx(first.finish_s + step.prefill_s([p]))
    assert second.ttft_s > first.e2e_s
    assert run.timeline.running.max() == 1 and run.summary.preemptions == 0
    # with room for both they share the prefill iteration and every decode step
    both = simulate_serving([Request(0.0, p, o), Request(0.0, p, o)], step, memory_for(step, 2 * blocks_one), 32e9,
                            NO_RESERVE)
    assert both.requests.first_token_s.tolist() == pytest.approx([step.prefill_s([p, p])] * 2)
    assert both.timeline.running.max() == 2


def test_swap_out_and_in_cost_bytes_over_the_host_link(step):
    # 6 blocks of 16: both 32-token prompts fit (2 blocks each, 3 checked), both grow to 3 blocks,
    # the 4th block of each (position 49) does not fit: the newer one is swapped out with its 3 blocks
    link = 16e9
    block_bytes = 16 * step.kv_bytes_per_token
    run = simulate_serving([Request(0.0, 32, 40), Request(0.0, 32, 40)], step, memory_for(step, 6), link, NO_RESERVE)
    swaps = run.timeline[run.timeline.swap_s > 0]
    assert swaps.swap_s.tolist() == pytest.approx([3 * block_bytes / link] * 2)  # out, then back in
    assert run.summary.swapped_bytes == 6 * block_bytes
    assert run.summary.swap_time_s == pytest.approx(6 * block_bytes / link)
    assert run.requests.preemptions.tolist() == [0, 1]
    out = swaps.iloc[0]  # the swap-out iteration: one decode step of the survivor + the transfer
    assert out.end_s - out.start_s == pytest.approx(step.decode_s(1, 32 + 17) + 3 * block_bytes / link)
    assert (run.timeline.kv_blocks_used <= 6).all()


def test_kv_capacity_respected_at_every_step_under_pressure(step):
    requests = poisson_requests(40, 10, 256, 200, seed=3)
    run = simulate_serving(requests, step, memory_for(step, 200), 32e9, NO_RESERVE)
    assert run.summary.preemptions > 0
    assert (run.timeline.kv_blocks_used <= run.timeline.kv_capacity_blocks).all()
    assert run.requests.finish_s.notna().all()
    assert (run.requests.ttft_s > 0).all() and (run.requests.e2e_s >= run.requests.ttft_s).all()
    assert run.summary.swap_time_s == pytest.approx(run.summary.swapped_bytes / 32e9)


def test_max_batch_limits_the_running_sequences(step):
    requests = poisson_requests(50, 5, 128, 64, seed=1)
    run = simulate_serving(requests, step, memory_for(step, 100_000), 32e9, ServingPolicy(max_batch=4))
    assert run.timeline.running.max() == 4


def test_deterministic_for_a_seed(step):
    def once(seed):
        return simulate_serving(poisson_requests(10, 10, 128, 32, seed=seed), step, memory_for(step, 10_000), 32e9)
    a, b, c = once(7), once(7), once(8)
    pd.testing.assert_frame_equal(a.requests, b.requests)
    assert a.summary == b.summary
    assert len(a.requests) != len(c.requests) or not a.requests.arrival_s.equals(c.requests.arrival_s)


def test_littles_law_on_a_steady_state_run(step):
    rate = 8.0
    run = simulate_serving(poisson_requests(rate, 300, 256, 64, seed=11), step, memory_for(step, 100_000), 32e9)
    s = run.summary
    # L (time-averaged sequences in the system, from the scheduler's timeline) = lambda x W (per-request records)
    assert s.mean_in_system == pytest.approx(rate * s.e2e_s["mean"], rel=0.05)
    assert s.requests_per_s == pytest.approx(rate, rel=0.05)


def test_poisson_arrivals_have_the_rate():
    times = np.array([r.arrival_s for r in poisson_requests(100, 100, 1, 1, seed=0)])
    assert len(times) == pytest.approx(10_000, rel=0.03)
    assert np.diff(times).mean() == pytest.approx(0.01, rel=0.03) and times.max() < 100


def test_trace_file_round_and_errors(tmp_path, step):
    good = tmp_path / "t.csv"
    good.write_text("arrival_s,prompt_tokens,output_tokens\n0,100,5\n0.5,200,3\n")
    requests = load_request_trace(good)
    assert requests == [Request(0.0, 100, 5), Request(0.5, 200, 3)]
    run = simulate_serving(requests, step, memory_for(step, 1000), 32e9)
    assert run.requests.output_tokens.tolist() == [5, 3]
    cases = {"arrival,prompt,output\n0,1,1\n": "header",
             "arrival_s,prompt_tokens,output_tokens\n1,10,2\n0.5,10,2\n": "line 3 arrival_s",
             "arrival_s,prompt_tokens,output_tokens\n0,-3,2\n": "line 2 prompt_tokens",
             "arrival_s,prompt_tokens,output_tokens\n0,10\n": "line 2",
             "arrival_s,prompt_tokens,output_tokens\n": "no requests"}
    for text, where in cases.items():
        good.write_text(text)
        with pytest.raises(SpecError, match=where):
            load_request_trace(good)


def test_requests_longer_than_the_model_or_cache_are_refused(step):
    with pytest.raises(SpecError, match="request 0"):
        simulate_serving([Request(0.0, 4000, 200)], step, memory_for(step, 10_000), 32e9)
    with pytest.raises(SpecError, match="request 0"):
        simulate_serving([Request(0.0, 512, 64)], step, memory_for(step, 20), 32e9, NO_RESERVE)


@pytest.mark.parametrize("spec, message", [("resnet50", "not an LLM"), ("bert-base", "not an LLM"),
                                           ("llama2-7b:decode", "scheduler sets"),
                                           ("llama2-7b:batch=4", "scheduler sets"), ("nosuchmodel", "decoder LLM")])
def test_serving_model_spec_errors(spec, message):
    with pytest.raises(SpecError, match=message):
        StepModel(spec, load_hardware("h100"))


def quarch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quarch", *args], capture_output=True, text=True, timeout=120)


def test_serve_cli_json_and_table(tmp_path):
    done = quarch("serve", "--hw", "h100", "--workload", MODEL, "--rate", "5", "--duration", "4", "--seed", "2",
                  "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert summary["requests"] > 0 and summary["ttft_s"]["p99"] >= summary["ttft_s"]["p50"] > 0
    trace = tmp_path / "requests.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n0,64,8\n0.01,32,4\n")
    done = quarch("serve", "--hw", "a100", "--workload", str(trace), "--model", MODEL)
    assert done.returncode == 0 and "TTFT" in done.stdout and "output tokens/s" in done.stdout


@pytest.mark.parametrize("args, needle", [
    (["--hw", "h100", "--workload", "resnet50", "--rate", "1", "--duration", "1"], "not an LLM"),
    (["--hw", "h100", "--workload", MODEL, "--rate", "0", "--duration", "1"], "--rate"),
    (["--hw", "h100", "--workload", MODEL, "--rate", "-2", "--duration", "1"], "--rate"),
    (["--hw", "nosuch", "--workload", MODEL, "--rate", "1", "--duration", "1"], "nosuch"),
    (["--hw", "h100", "--workload", MODEL], "--rate"),
    (["--hw", "systolic-int8-32x32-os", "--workload", MODEL, "--rate", "1", "--duration", "1"], "--device-memory-gb"),
    (["--hw", "h100", "--workload", "missing.csv", "--model", MODEL], "missing.csv"),
])
def test_serve_cli_bad_input_is_one_line_exit_2(args, needle):
    done = quarch("serve", *args)
    assert done.returncode == 2
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
