#!/usr/bin/env python3
"""Independent replica of SCALE-Sim 3.0.0's USER-mode memory timing, checked against the goldens.

By-hand analysis tool (not a pytest test).  Run it with the SCALE-Sim venv's python:

    .scalesim-venv/bin/python -W ignore tests/parity/replicate_user_mode.py [--no-double-count]

It takes SCALE-Sim's own operand / prefetch / demand matrices (compute side, already
pinned down by the closed forms in SCALESIM_FINDINGS.md) and re-implements only the
memory side from scratch:

* read buffer (memory/read_buffer.py, non-layout path): the fetch stream is the
  prefetch matrix flattened row-major; it is cut into 100-ish "sets" of
  eps = ceil(SRAM_words/100) valid (non -1) words; the active window is
  ceil(ceil(W/2)/eps) sets, a miss advances it by ceil((W - ceil(W/2))/eps) sets
  (cyclically) until the address is inside; each advance is one DRAM chunk of
  ceil(P/bw) lines that completes at last_chunk_end + ceil(P/bw) + 1, independent
  of when the miss happened; the row's read completes at cycle+offset where
  offset starts at 1 and each advance adds (chunk_end - (cycle+offset)), twice
  when positive (the 3.0.0 double count) -- disable with --no-double-count;
* write buffer (memory/write_buffer.py) at Bandwidth words/cycle;
* array stalls per row = max(ifmap, filter, ofmap stall); next row is issued at
  row + total stalls so far.

Prints per USER golden row whether total/stall cycles, DRAM reads/stop cycles and
OFMAP DRAM start/stop/writes match exactly, plus the number of window advances
(chunks) per operand.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import warnings
from pathlib import Path

warnings.simplefilter("ignore")

HERE = Path(__file__).resolve().parent

from scalesim.scale_sim import scalesim  # noqa: E402
from scalesim.compute.operand_matrix import operand_matrix  # noqa: E402
from scalesim.compute.systolic_compute_os import systolic_compute_os  # noqa: E402
from scalesim.compute.systolic_compute_ws import systolic_compute_ws  # noqa: E402
from scalesim.compute.systolic_compute_is import systolic_compute_is  # noqa: E402


class ReadBuffer:
    def __init__(self, words, bw, prefetch_mat, double_count=True):
        self.bw = bw
        self.double = double_count
        A = math.ceil(words * 0.5)
        P = words - A
        stream = prefetch_mat.reshape(-1)
        fetch_lines = math.ceil(stream.size / bw)
        eps = math.ceil(words / 100)
        valid = stream[stream != -1].tolist()
        set_of: dict = {}
        for idx, a in enumerate(valid):
            set_of.setdefault(a, set()).add(idx // eps)
        self.set_of = set_of
        self.n = len(valid) // eps + 1          # trailing (partial or empty) set always exists
        self.na = min(math.ceil(A / eps), self.n)
        self.np = min(math.ceil(P / eps), self.n - self.na)
        self.start, self.end = 0, self.na
        fill = min(math.ceil(A / bw), fetch_lines)
        self.reads = fill * bw
        self.dram_start = -fill
        self.last = -1                          # the initial fill completes at cycle -1
        self.chunks = 0
        self.lines = math.ceil(P / bw)

    def hit(self, addr):
        s, e = self.start, self.end
        for sid in self.set_of[addr]:
            if (s <= sid < e) if s < e else (sid >= s or sid < e):
                return True
        return False

    def advance(self):
        self.start = (self.start + self.np) % self.n
        self.end = (self.start + self.na) % self.n
        self.reads += self.lines * self.bw
        self.last += self.lines + 1
        self.chunks += 1

    def service_row(self, cycle, row):
        offset = 1
        for a in row:
            if a == -1:
                continue
            while not self.hit(a):
                self.advance()
                pot = self.last - (cycle + offset)
                offset += pot
                if pot > 0 and self.double:
                    offset += pot
        return cycle + offset


class WriteBuffer:
    def __init__(self, words, bw):
        self.total, self.bw = words, bw
        self.D = words - math.ceil(words * 0.5)
        self.lpd = math.ceil(self.D / bw)
        self.free = words
        self.lines, self.cur, self.dsl, self.dend = [], 0, 0, 0
        self.cycles, self.writes = [], 0

    def _drain(self, c0):
        e = min(self.dsl + self.lpd, len(self.lines))
        chunk = self.lines[self.dsl:e]
        n = len(chunk)
        sz = n * self.bw - (self.bw - chunk[-1])    # only the last line's holes discounted
        self.writes += sz
        self.free += sz                             # credited at drain start
        self.cycles += [c0 + i for i in range(n)]
        self.dsl = e
        return c0 + n - 1

    def write_row(self, cycle, count):
        cur = cycle
        for _ in range(count):
            self.cur += 1
            self.free -= 1
            if self.cur == self.bw:
                self.lines.append(self.bw)
                self.cur = 0
            if cur < self.dend:
                if not self.free > 0:
                    cur = self.dend
            elif self.free < self.total - self.D:
                if self.cur:
                    self.lines.append(self.cur)
                    self.cur = 0
                self.dend = self._drain(cur)
        return cur

    def flush(self, cycle):
        if self.cur:
            self.lines.append(self.cur)
            self.cur = 0
        while self.dsl < len(self.lines):
            cycle = self._drain(cycle) + 1


def matrices(cfg, topo, layout, is_gemm, layer_id):
    s = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                 layout=str(layout), input_type_gemm=is_gemm)
    conf = s.config
    om = operand_matrix()
    om.set_params(config_obj=conf, topoutil_obj=s.topo, layoututil_obj=s.layout, layer_id=layer_id)
    _, ifm = om.get_ifmap_matrix()
    _, flt = om.get_filter_matrix()
    _, ofm = om.get_ofmap_matrix()
    df = conf.get_dataflow()
    cs = {"os": systolic_compute_os, "ws": systolic_compute_ws, "is": systolic_compute_is}[df]()
    kw = {}
    if df == "ws":
        kw = dict(ifmap_op_mat_original=om.ifmap_addr_matrix_original,
                  sparsity_filter_array=om.sparse_filter_array)
    cs.set_params(config_obj=conf, ifmap_op_mat=ifm, filter_op_mat=flt, ofmap_op_mat=ofm, **kw)
    ipf, fpf = cs.get_prefetch_matrices()
    idm, fdm, odm = cs.get_demand_matrices()
    return conf, ipf, fpf, idm, fdm, odm


def simulate(conf, ipf, fpf, idm, fdm, odm, double_count=True):
    ikb, fkb, okb = conf.get_mem_sizes()
    rb_i = ReadBuffer(ikb * 1024, conf.ifmap_sram_bank_bandwidth, ipf, double_count)
    rb_f = ReadBuffer(fkb * 1024, conf.filter_sram_bank_bandwidth, fpf, double_count)
    wb = WriteBuffer(okb * 1024, conf.get_bandwidths_as_list()[0])
    stalls = 0
    outs = []
    idl, fdl = idm.tolist(), fdm.tolist()
    odc = (odm != -1).sum(axis=1).tolist()
    for i in range(len(idl)):
        cyc = i + stalls
        oi = rb_i.service_row(cyc, idl[i])
        of = rb_f.service_row(cyc, fdl[i])
        ow = wb.write_row(cyc, odc[i])
        outs.append(ow)
        stalls += int(max(oi - cyc - 1, of - cyc - 1, ow - cyc))
    wb.flush(outs[-1])
    return {
        "total_cycles": int(max(outs)), "stall_cycles": stalls,
        "dram_ifmap_start_cycle": rb_i.dram_start, "dram_ifmap_reads": rb_i.reads,
        "dram_ifmap_stop_cycle": rb_i.last if rb_i.chunks else -1,
        "dram_filter_start_cycle": rb_f.dram_start, "dram_filter_reads": rb_f.reads,
        "dram_filter_stop_cycle": rb_f.last if rb_f.chunks else -1,
        "dram_ofmap_start_cycle": min(wb.cycles), "dram_ofmap_stop_cycle": max(wb.cycles),
        "dram_ofmap_writes": wb.writes,
    }, (rb_i.chunks, rb_f.chunks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, default=HERE / "scalesim_goldens.csv")
    ap.add_argument("--no-double-count", action="store_true",
                    help="count each read stall once (what scale-sim-v2 fixed in 22f88b1)")
    args = ap.parse_args()
    rows = [r for r in csv.DictReader(open(args.csv)) if r["interface_bandwidth"] == "USER"]
    ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        layout = Path(tmp) / "layout.csv"
        layout.write_text("Layer name,\n")
        for r in rows:
            d = HERE / "cases" / r["case_id"]
            mats = matrices(d / "scale.cfg", d / "topology.csv", layout,
                            r["topology_kind"] == "gemm", int(r["layer_index"]))
            res, chunks = simulate(*mats, double_count=not args.no_double_count)
            diff = {k: (int(r[k]), v) for k, v in res.items() if int(r[k]) != v}
            ok += not diff
            tag = "OK" if not diff else "DIFF(golden, replica) " + str(diff)
            print(f"{r['case_id']}/{r['layer_name']}: {tag}  chunks(ifmap,filter)={chunks}",
                  flush=True)
    print(f"{ok}/{len(rows)} USER rows reproduced exactly")
    return 0 if ok == len(rows) or args.no_double_count else 1


if __name__ == "__main__":
    sys.exit(main())
