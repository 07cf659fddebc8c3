#!/usr/bin/env python3
"""quarch vs SCALE-Sim v3 on the same layers, in one run: time per layer, ratio, cycle equality.

Run by hand (SCALE-Sim is slow and lives in its own venv, made on first use as in
tests/parity/make_scalesim_goldens.py):

    .venv/bin/python benchmarks/scalesim_speed.py [--venv .scalesim-venv] [--repeats 20]

For each case (a GEMM or conv layer on a 32x32 array, CALC mode, 512 KB SRAMs) it runs
SCALE-Sim once (its own per-layer time, measured inside its process: run() + report) and
quarch's `simulate` on the very same .cfg/.csv files (median of --repeats runs after one
warm-up; Numba's one-time compile is reported separately), and prints both cycle counts,
whether they are equal, and the speed ratio. The machine is named in the header.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "parity"))
sys.path.insert(0, str(REPO))

from cases import Case, ConvLayer, GemmLayer  # noqa: E402
from make_scalesim_goldens import WORKER, ensure_venv  # noqa: E402

def _case(name: str, dataflow: str, layer) -> Case:
    return Case(case_id=name, kind=layer.kind, dataflow=dataflow, rows=32, cols=32, ifmap_kb=512, filter_kb=512,
                ofmap_kb=512, layers=[layer])


CASES = [
    _case("gemm256_os", "os", GemmLayer("g256", 256, 256, 256)),
    _case("gemm256_ws", "ws", GemmLayer("g256", 256, 256, 256)),
    _case("gemm256_is", "is", GemmLayer("g256", 256, 256, 256)),
    _case("gemm384_os", "os", GemmLayer("g384", 384, 384, 384)),
    _case("gemm512_os", "os", GemmLayer("g512", 512, 512, 512)),
    _case("gemm512_ws", "ws", GemmLayer("g512", 512, 512, 512)),
    _case("conv3x3_56_os", "os", ConvLayer("c3", 58, 58, 3, 3, 64, 64, 1)),
    _case("conv3x3_28_ws", "ws", ConvLayer("c3", 30, 30, 3, 3, 128, 128, 1)),
]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def run_scalesim(py: Path, case: Case, cfg: Path, topo: Path, work: Path) -> tuple[int, int, float]:
    layout = work / "layout.csv"
    layout.write_text("Layer name,\n")
    timing = work / "timing.json"
    subprocess.run([str(py), "-W", "ignore", "-c", WORKER, str(cfg), str(topo), str(layout), str(work / "out"),
                    "1" if case.kind == "gemm" else "0", str(timing)], check=True, capture_output=True, cwd=work,
                   env=dict(os.environ, PYTHONWARNINGS="ignore"))
    report = (work / "out" / case.case_id / "COMPUTE_REPORT.csv").read_text().splitlines()[1].split(",")
    seconds = json.loads(timing.read_text())["layers"]["0"]
    return int(float(report[2])), int(float(report[1])), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=REPO / ".scalesim-venv")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    py = ensure_venv(args.venv)

    t0 = time.perf_counter()
    from hwmodels.loader import load_hardware
    from sim.simulate import simulate
    from workloads.loader import load_workload
    import_s = time.perf_counter() - t0

    print(f"machine: {machine()}")
    print(f"quarch import + Numba load/compile (once per process): {import_s:.2f} s")
    header = f"{'case':16} {'scalesim cycles':>16} {'quarch cycles':>14} {'equal':>6} " \
             f"{'incl.prefetch eq':>16} {'scalesim s':>11} {'quarch ms':>10} {'speed-up':>10}"
    print(header)
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            name = case.case_id
            work = Path(tmp) / name
            work.mkdir()
            cfg = work / "scale.cfg"
            cfg.write_text(case.config_text())
            topo = work / "topology.csv"
            topo.write_text(case.topology_text())
            ss_cycles, ss_incl, ss_seconds = run_scalesim(py, case, cfg, topo, work)
            hw, workload = load_hardware(cfg), load_workload(str(topo))
            simulate(workload, hw)  # warm-up (first call compiles or loads the Numba cache)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                op = simulate(workload, hw).ops[0]
                times.append(time.perf_counter() - start)
            q_seconds = statistics.median(times)
            ratio = ss_seconds / q_seconds
            ratios.append(ratio)
            print(f"{name:16} {ss_cycles:>16,} {op.cycles:>14,} {str(op.cycles == ss_cycles):>6} "
                  f"{str(op.cycles_incl_prefetch == ss_incl):>16} {ss_seconds:>11.2f} {q_seconds * 1e3:>10.3f} "
                  f"{ratio:>9,.0f}x")
    print(f"geometric-mean speed-up: {statistics.geometric_mean(ratios):,.0f}x, minimum {min(ratios):,.0f}x")


if __name__ == "__main__":
    main()
