#!/usr/bin/env python3
"""Regenerate the SCALE-Sim v3 parity goldens (tests/parity/scalesim_goldens.csv).

RUN BY HAND ONLY -- never from CI.  It needs SCALE-Sim 3.0.0 (a slow pure-Python
per-cycle simulator; the full set takes ~10-15 minutes on 2 cores) and will
create a private virtual environment for it.  CI only *reads* the committed
CSV.

What it does
------------
* Makes sure ``--venv`` (default ``<repo>/.scalesim-venv``, git-ignored) holds
  ``scalesim==3.0.0`` with ``numpy==2.3.*`` (3.0.0 crashes at the end of every
  run on numpy >= 2.4); creates it if not:
      python3 -m venv V; V/bin/pip install --upgrade pip
      V/bin/pip install scalesim==3.0.0; V/bin/pip install "numpy==2.3.*"
* For each case of ``tests/parity/cases.py`` writes
  ``tests/parity/cases/<case_id>/{scale.cfg,topology.csv}`` (the empty layout
  file SCALE-Sim insists on lives in a temp dir), runs SCALE-Sim on it in a
  subprocess through its Python API (``save_disk_space=True``: no trace CSVs;
  ``input_type_gemm`` for GEMM topologies; ``python -W ignore``), 2 cases at a
  time, and
* writes one row per (case, layer) to ``tests/parity/scalesim_goldens.csv``:
  the inputs, COMPUTE_REPORT, BANDWIDTH_REPORT, DETAILED_ACCESS_REPORT numbers
  and ``scalesim_seconds`` (SCALE-Sim's own time for that layer: run() plus
  report computation, measured inside the worker).

Usage
-----
    python3 tests/parity/make_scalesim_goldens.py                  # everything
    python3 tests/parity/make_scalesim_goldens.py --list
    python3 tests/parity/make_scalesim_goldens.py --only gemm_calc_os_4x4 [--only ...]
    python3 tests/parity/make_scalesim_goldens.py --venv /tmp/ssvenv --jobs 2

With ``--only`` the rows of the other cases already in the CSV are kept.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from cases import CASES  # noqa: E402

SCALESIM_VERSION = "3.0.0"
NUMPY_SPEC = "numpy==2.3.*"
GOLDEN_CSV = HERE / "scalesim_goldens.csv"
CASES_DIR = HERE / "cases"

INPUT_COLUMNS = [
    "case_id", "topology_kind", "layer_index", "layer_name", "dataflow",
    "array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb",
    "interface_bandwidth", "bandwidth_words_per_cycle",
    "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride",
    "m", "n", "k",
]
COMPUTE_COLUMNS = [  # COMPUTE_REPORT.csv
    "total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
    "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct",
]
BANDWIDTH_COLUMNS = [  # BANDWIDTH_REPORT.csv (words/cycle)
    "avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
    "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw",
]
DETAIL_COLUMNS = [  # DETAILED_ACCESS_REPORT.csv
    f"{mem}_{op}_{what}"
    for mem in ("sram", "dram")
    for op in ("ifmap", "filter", "ofmap")
    for what in ("start_cycle", "stop_cycle", "writes" if op == "ofmap" else "reads")
]
OUTPUT_COLUMNS = COMPUTE_COLUMNS + BANDWIDTH_COLUMNS + DETAIL_COLUMNS + ["scalesim_seconds"]
ALL_COLUMNS = INPUT_COLUMNS + OUTPUT_COLUMNS
FLOAT_COLUMNS = {"overall_util_pct", "mapping_efficiency_pct", "compute_util_pct",
                 *BANDWIDTH_COLUMNS, "scalesim_seconds"}

# Runs inside the SCALE-Sim venv.  argv: cfg topo layout outdir is_gemm timing_json
WORKER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
cfg, topo, layout, outdir, is_gemm, timing_json = sys.argv[1:7]
from scalesim import single_layer_sim as sls
from scalesim.scale_sim import scalesim
times = {}
def _timed(name):
    orig = getattr(sls.single_layer_sim, name)
    def wrapper(self, *a, **k):
        t0 = time.perf_counter()
        try:
            return orig(self, *a, **k)
        finally:
            times[self.layer_id] = times.get(self.layer_id, 0.0) + time.perf_counter() - t0
    setattr(sls.single_layer_sim, name, wrapper)
_timed("run")
_timed("calc_report_data")
t0 = time.perf_counter()
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
             input_type_gemm=(is_gemm == "1"))
s.run_scale(top_path=outdir)
with open(timing_json, "w") as f:
    json.dump({"layers": {str(k): v for k, v in times.items()},
               "total": time.perf_counter() - t0}, f)
"""


# ----------------------------------------------------------------------------
# venv
# ----------------------------------------------------------------------------

def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def venv_ok(venv: Path) -> bool:
    py = venv_python(venv)
    if not py.exists():
        return False
    probe = ("import importlib.metadata as m, numpy, scalesim.scale_sim;"
             f"assert m.version('scalesim') == '{SCALESIM_VERSION}', m.version('scalesim');"
             "assert numpy.__version__.startswith('2.3.'), numpy.__version__")
    r = subprocess.run([str(py), "-W", "ignore", "-c", probe], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"[venv] {venv} not usable: {r.stderr.strip().splitlines()[-1:]}", flush=True)
    return r.returncode == 0


def ensure_venv(venv: Path) -> Path:
    if venv_ok(venv):
        return venv_python(venv)
    print(f"[venv] creating {venv} with scalesim=={SCALESIM_VERSION}, {NUMPY_SPEC}", flush=True)
    if not venv_python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + [f"scalesim=={SCALESIM_VERSION}"], check=True)
    # REQUIRED: scalesim 3.0.0 crashes on numpy >= 2.4 (int() of a 1-element array)
    subprocess.run(pip + [NUMPY_SPEC], check=True)
    if not venv_ok(venv):
        raise SystemExit(f"could not set up {venv}")
    return venv_python(venv)


# ----------------------------------------------------------------------------
# one case
# ----------------------------------------------------------------------------

def write_case_files(case) -> tuple[Path, Path]:
    d = CASES_DIR / case.case_id
    d.mkdir(parents=True, exist_ok=True)
    cfg = d / "scale.cfg"
    topo = d / "topology.csv"
    cfg.write_text(case.config_text())
    topo.write_text(case.topology_text())
    return cfg, topo


def _read_report(path: Path) -> list[list[str]]:
    rows = []
    with open(path) as f:
        next(f)  # header
        for line in f:
            line = line.strip()
            if line:
                rows.append([x.strip() for x in line.split(",")[:-1]])
    return rows


def _num(col: str, s: str):
    v = float(s)
    if col in FLOAT_COLUMNS:
        return repr(v)
    assert v == int(v), (col, s)
    return str(int(v))


def input_fields(case, idx, layer) -> dict:
    m, n, k = layer.mnk()
    row = {
        "case_id": case.case_id, "topology_kind": case.kind, "layer_index": idx,
        "layer_name": layer.name, "dataflow": case.dataflow,
        "array_rows": case.rows, "array_cols": case.cols,
        "ifmap_sram_kb": case.ifmap_kb, "filter_sram_kb": case.filter_kb,
        "ofmap_sram_kb": case.ofmap_kb, "interface_bandwidth": case.mode,
        "bandwidth_words_per_cycle": case.bw if case.mode == "USER" else "",
        "m": m, "n": n, "k": k,
    }
    for c in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride"):
        row[c] = getattr(layer, c) if case.kind == "conv" else ""
    return row


def run_case(case, py: Path, tmp_root: Path) -> tuple[list[dict], float]:
    cfg, topo = write_case_files(case)
    work = Path(tempfile.mkdtemp(prefix=case.case_id + ".", dir=tmp_root))
    layout = work / "layout.csv"
    layout.write_text("Layer name,\n")
    timing_json = work / "timing.json"
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run(
        [str(py), "-W", "ignore", "-c", WORKER, str(cfg), str(topo), str(layout),
         str(work / "out"), "1" if case.kind == "gemm" else "0", str(timing_json)],
        capture_output=True, text=True, env=env, cwd=work)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{case.case_id}: scalesim failed (rc={r.returncode})\n"
                           f"{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    rep = work / "out" / case.case_id
    comp = _read_report(rep / "COMPUTE_REPORT.csv")
    bw = _read_report(rep / "BANDWIDTH_REPORT.csv")
    det = _read_report(rep / "DETAILED_ACCESS_REPORT.csv")
    timing = json.loads(timing_json.read_text())
    n = len(case.layers)
    assert len(comp) == len(bw) == len(det) == n, (case.case_id, len(comp), len(bw), len(det), n)
    rows = []
    for i, layer in enumerate(case.layers):
        row = input_fields(case, i, layer)
        for cols, rec in ((COMPUTE_COLUMNS, comp[i]), (BANDWIDTH_COLUMNS, bw[i]),
                          (DETAIL_COLUMNS, det[i])):
            assert int(float(rec[0])) == i, (case.case_id, rec)
            vals = rec[1:]
            assert len(vals) == len(cols), (case.case_id, cols, vals)
            for c, v in zip(cols, vals):
                row[c] = _num(c, v)
        secs = timing["layers"].get(str(i))
        if secs is None:
            secs = wall / n
        row["scalesim_seconds"] = repr(round(secs, 3))
        rows.append(row)
    shutil.rmtree(work, ignore_errors=True)
    return rows, wall


# ----------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------

def write_csv(rows_by_case: dict, path: Path):
    order = {c.case_id: i for i, c in enumerate(CASES)}
    ids = sorted(rows_by_case, key=lambda cid: (order.get(cid, 10**9), cid))
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ALL_COLUMNS, lineterminator="\n")
        w.writeheader()
        for cid in ids:
            for r in sorted(rows_by_case[cid], key=lambda r: int(r["layer_index"])):
                w.writerow(r)
    tmp.replace(path)


def read_csv(path: Path) -> dict:
    out: dict = {}
    if not path.exists():
        return out
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["case_id"], []).append(r)
    return out


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", type=Path, default=REPO / ".scalesim-venv",
                    help="venv with scalesim==3.0.0 + numpy 2.3.* (created if missing)")
    ap.add_argument("--only", action="append", metavar="CASE_ID",
                    help="run only this case (repeatable); other rows of the CSV are kept")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--jobs", type=int, default=2, help="parallel SCALE-Sim processes")
    ap.add_argument("--out", type=Path, default=GOLDEN_CSV, help="golden CSV to write")
    args = ap.parse_args(argv)

    if args.list:
        tot_l = 0
        for c in CASES:
            tot_l += len(c.layers)
            bw = f" bw={c.bw}" if c.bw else ""
            print(f"{c.case_id:42s} {c.kind:4s} {c.dataflow} {c.rows}x{c.cols} "
                  f"sram={c.ifmap_kb}/{c.filter_kb}/{c.ofmap_kb}KB {c.mode}{bw} "
                  f"layers={len(c.layers):2d} est={c.est_seconds():6.1f}s")
        print(f"{len(CASES)} cases, {tot_l} layers")
        return 0

    selected = CASES
    if args.only:
        known = {c.case_id for c in CASES}
        bad = [x for x in args.only if x not in known]
        if bad:
            ap.error(f"unknown case id(s): {', '.join(bad)} (see --list)")
        selected = [c for c in CASES if c.case_id in set(args.only)]

    py = ensure_venv(args.venv.resolve())
    rows_by_case = read_csv(args.out) if args.only else {}
    # longest first (LPT) for a good 2-process schedule
    todo = sorted(selected, key=lambda c: -c.est_seconds())
    n_layers = sum(len(c.layers) for c in todo)
    print(f"running {len(todo)} cases / {n_layers} layers with {args.jobs} processes "
          f"(estimated {sum(c.est_seconds() for c in todo) / max(args.jobs, 1) / 60:.1f} min)",
          flush=True)

    lock = threading.Lock()
    t_start = time.perf_counter()
    done = 0
    failures = []
    with tempfile.TemporaryDirectory(prefix="scalesim-goldens.") as tmp:
        tmp_root = Path(tmp)
        with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = {ex.submit(run_case, c, py, tmp_root): c for c in todo}
            for fut in cf.as_completed(futs):
                c = futs[fut]
                with lock:
                    done += 1
                    try:
                        rows, wall = fut.result()
                    except Exception as e:  # keep going, report at the end
                        failures.append((c.case_id, str(e)))
                        print(f"[{done}/{len(todo)}] FAILED {c.case_id}: {e}", flush=True)
                        continue
                    rows_by_case[c.case_id] = rows
                    el = time.perf_counter() - t_start
                    print(f"[{done}/{len(todo)}] {c.case_id}: {len(rows)} layers, {wall:.1f}s "
                          f"(est {c.est_seconds():.1f}s), elapsed {el / 60:.1f} min", flush=True)
                    # checkpoint so an interrupted run keeps what it has
                    write_csv(rows_by_case, args.out)

    write_csv(rows_by_case, args.out)
    total = time.perf_counter() - t_start
    n_rows = sum(len(v) for v in rows_by_case.values())
    print(f"wrote {args.out} ({n_rows} rows, {len(rows_by_case)} cases) in {total / 60:.1f} min")
    if failures:
        print(f"{len(failures)} case(s) failed: {', '.join(f for f, _ in failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
