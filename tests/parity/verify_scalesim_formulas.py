#!/usr/bin/env python3
"""Check closed-form readings of SCALE-Sim 3.0.0 against tests/parity/scalesim_goldens.csv.

By-hand analysis tool (not a pytest test; needs only numpy).  Prints, per check,
how many golden rows agree and lists disagreements.  See SCALESIM_FINDINGS.md for the
findings.

    python3 tests/parity/verify_scalesim_formulas.py [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import math
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "scalesim_goldens.csv"


def I(x):
    return int(x) if x not in ("", None) else None


# ----------------------------------------------------------------------------
# geometry
# ----------------------------------------------------------------------------

def folds_L(df, R, C, M, N, K):
    if df == "os":
        return math.ceil(M / R) * math.ceil(N / C), K + R + C - 2
    if df == "ws":
        return math.ceil(K / R) * math.ceil(N / C), 2 * R + C + M - 2
    return math.ceil(K / R) * math.ceil(M / C), 2 * R + C + N - 2


def first_request(df, R, C, M, N, K):
    """Demand-row index of the first ifmap / filter SRAM read (stall-free)."""
    if df == "os":
        return 0, 0
    pad = R - min(R, K)          # flipped K-block: padding rows come first
    if df == "ws":
        return R, pad            # ifmap after the R-row weight-load prefix
    return pad, R                # is


def touched(H, Rf, s, E):
    """Pixels of [0,H) covered by windows [e*s, e*s+Rf), e < E (unpadded)."""
    cov = set()
    for e in range(E):
        cov.update(range(e * s, min(e * s + Rf, H)))
    return len(cov)


def operand_sizes(r):
    """distinct ifmap addresses, ifmap im2col elements (valid), filter elements."""
    M, N, K = I(r["m"]), I(r["n"]), I(r["k"])
    if r["topology_kind"] == "gemm":
        return M * K, M * K, K * N
    H, W, Rf, Sf, Ch, s = (I(r[c]) for c in ("ifmap_h", "ifmap_w", "filter_h", "filter_w",
                                            "channels", "stride"))
    Eh = math.ceil((H - Rf + s) / s)
    Ew = math.ceil((W - Sf + s) / s)
    distinct = Ch * touched(H, Rf, s, Eh) * touched(W, Sf, s, Ew)
    # valid (in-bounds) im2col entries
    rows_valid = sum(min(Rf, H - e * s) for e in range(Eh))
    cols_valid = sum(min(Sf, W - e * s) for e in range(Ew))
    return distinct, Ch * rows_valid * cols_valid, K * N


def calc_dram_start(n, kb, first_req, bw=10):
    s = (kb * 1024) // 100
    if n < 50 * s:
        return -math.ceil(math.ceil(n / s) * s / bw)
    return first_req - math.ceil(50 * s / bw)


# ----------------------------------------------------------------------------
# OFMAP write buffer replica (memory/write_buffer.py), driven by per-row counts
# ----------------------------------------------------------------------------

def ofmap_row_counts(df, R, C, M, N, K):
    """Number of OFMAP writes in each stall-free demand row, fold by fold."""
    out = []
    if df == "os":
        T = K
        for fc in range(math.ceil(N / C)):
            uc = min(C, N - fc * C)
            for fr in range(math.ceil(M / R)):
                ur = min(R, M - fr * R)
                L = T + R + C - 2
                lo = T - 1 + R - ur            # flipped: padding rows first
                hi = T - 1 + R
                cnt = [0] * L
                for j in range(uc):
                    for t in range(lo + j, hi + j):
                        cnt[t] += 1
                out += cnt
        return out
    T = M if df == "ws" else N
    outer = math.ceil(N / C) if df == "ws" else math.ceil(M / C)
    inner = math.ceil(K / R)
    width = N if df == "ws" else M
    for fc in range(outer):
        uc = min(C, width - fc * C)
        L = 2 * R + C + T - 2
        cnt = [0] * L
        for j in range(uc):
            for t in range(2 * R - 1 + j, 2 * R - 1 + T + j):
                cnt[t] += 1
        out += cnt * inner
    return out


def write_buffer_replica(counts, total_words, bw):
    """Returns (stall_cycles, last_cycle, dram_start, dram_stop, dram_writes)."""
    total = total_words
    active = math.ceil(total * 0.5)
    D = total - active
    lines_per_drain = math.ceil(D / bw)
    free = total
    lines = []              # fill count of each completed line (trace matrix)
    cur = 0                 # words in current line
    drain_start_line = 0
    drain_end = 0
    cycles = []             # DRAM cycles of drained lines
    writes = 0

    def drain(start_cycle):
        nonlocal drain_start_line, free, writes
        end_line = min(drain_start_line + lines_per_drain, len(lines))
        chunk = lines[drain_start_line:end_line]
        n = len(chunk)
        sz = n * bw - (bw - chunk[-1])   # only the last line's holes are discounted
        writes += sz
        free += sz
        cyc = [start_cycle + i for i in range(n)]
        cycles.extend(cyc)
        drain_start_line = end_line
        return cyc[-1]

    stalls = 0
    last = 0
    for i, c in enumerate(counts):
        cycle = i + stalls
        cur_cycle = cycle
        for _ in range(c):
            cur += 1
            free -= 1
            if cur == bw:
                lines.append(cur)
                cur = 0
            if cur_cycle < drain_end:
                if not free > 0:
                    cur_cycle = drain_end
            elif free < total - D:
                if cur:
                    lines.append(cur)
                    cur = 0
                drain_end = drain(cur_cycle)
        stalls += cur_cycle - cycle
        last = cur_cycle
    # empty_all_buffers(last serviced cycle)
    if cur:
        lines.append(cur)
        cur = 0
    cyc = last
    while drain_start_line < len(lines):
        cyc = drain(cyc) + 1
    return stalls, last, min(cycles), max(cycles), writes


# ----------------------------------------------------------------------------
# USER mode (memory/read_buffer.py)
# ----------------------------------------------------------------------------

def fetch_streams(r):
    """(stream length incl. -1 padding, valid words, passes) for ifmap and filter."""
    df, R, C = r["dataflow"], I(r["array_rows"]), I(r["array_cols"])
    M, N, K = I(r["m"]), I(r["n"]), I(r["k"])
    _, im2col_valid, _ = operand_sizes(r)
    v_if = im2col_valid if r["topology_kind"] == "conv" else M * K
    if df == "os":
        return ((math.ceil(M / R) * R * K, v_if, math.ceil(N / C)),
                (math.ceil(N / C) * C * K, K * N, 1))
    if df == "ws":
        return ((math.ceil(K / R) * R * M, v_if, math.ceil(N / C)),
                (math.ceil(N / C) * C * K, K * N, 1))
    return ((math.ceil(M / C) * C * K, v_if, 1),
            (math.ceil(K / R) * R * N, K * N, math.ceil(M / C)))


def check_user(r, t, cid, args):
    bw = I(r["bandwidth_words_per_cycle"])
    df, R, C = r["dataflow"], I(r["array_rows"]), I(r["array_cols"])
    M, N, K = I(r["m"]), I(r["n"]), I(r["k"])
    n_if, _, n_f = operand_sizes(r)
    fits_all = True
    parts = []
    for op, (S, v, p), n in zip(("ifmap", "filter"), fetch_streams(r), (n_if, n_f)):
        words = I(r[f"{op}_sram_kb"]) * 1024
        A = math.ceil(words / 2)
        P = words - A
        eps = math.ceil(words / 100)
        a = min(math.ceil(A / bw), math.ceil(S / bw))
        t["USER: dram start == -min(ceil(A/bw), stream lines)"].check(
            I(r[f"dram_{op}_start_cycle"]) == -a, f"{cid} {op}: {r[f'dram_{op}_start_cycle']} vs {-a}")
        reads = I(r[f"dram_{op}_reads"])
        chunk = math.ceil(P / bw) * bw
        ch, rem = divmod(reads - a * bw, chunk)
        stop = -1 + ch * (math.ceil(P / bw) + 1)
        t["USER: dram reads == fill + chunks*ceil(P/bw)*bw, stop == -1 + chunks*(ceil(P/bw)+1)"].check(
            rem == 0 and I(r[f"dram_{op}_stop_cycle"]) == stop,
            f"{cid} {op}: reads={reads} fill={a*bw} chunk={chunk} stop={r[f'dram_{op}_stop_cycle']} vs {stop}")
        nsets = math.ceil(v / eps)
        fits = nsets <= math.ceil(A / eps)
        fits_all &= fits
        sane = 0 if fits else math.ceil(max(0, p * v - A) / P)
        parts.append(f"{op}: n={n} S={S} sets={nsets}{'(fits)' if fits else ''} p={p} "
                     f"reads={reads} ({reads / n:.2f}n) chunks={ch} sane={sane}")
    if fits_all and not args.no_replica:
        counts = ofmap_row_counts(df, R, C, M, N, K)
        stl, last, ds, de, wr = write_buffer_replica(counts, I(r["ofmap_sram_kb"]) * 1024, bw)
        got = (I(r["stall_cycles"]), I(r["dram_ofmap_start_cycle"]), I(r["dram_ofmap_stop_cycle"]),
               I(r["dram_ofmap_writes"]))
        t["USER, both operands fit the active half: no read traffic after cycle 0; "
          "write-buffer replica (bw=Bandwidth) gives stalls/ofmap start/stop/writes"].check(
            got == (stl, ds, de, wr), f"{cid}: got {got} replica {(stl, ds, de, wr)}")
    f, L = folds_L(df, R, C, M, N, K)
    tot = I(r["total_cycles"])
    return (f"{cid}: compute={f*L-1} total={tot} stall={r['stall_cycles']} | "
            + " | ".join(parts))


# ----------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------

class Tally:
    def __init__(self, name):
        self.name, self.ok, self.bad = name, 0, []

    def check(self, cond, msg):
        if cond:
            self.ok += 1
        else:
            self.bad.append(msg)

    def report(self, verbose):
        n = self.ok + len(self.bad)
        print(f"{self.name}: {self.ok}/{n} agree")
        for m in self.bad[: (None if verbose else 8)]:
            print("    MISMATCH", m)
        if not verbose and len(self.bad) > 8:
            print(f"    ... {len(self.bad) - 8} more")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--csv", type=Path, default=GOLDEN)
    ap.add_argument("--no-replica", action="store_true", help="skip the write-buffer replica")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.csv)))
    t = {k: Tally(k) for k in [
        "cycles: total-stall == folds*L-1 (all rows)",
        "CALC: stall_cycles == 0",
        "sram start == first_request+1 (CALC)",
        "incl_prefetch == ofmap_dram_stop - min(ifmap,filter dram start)",
        "CALC ifmap dram start formula",
        "CALC filter dram start formula",
        "CALC ifmap dram reads == distinct n (n < 50s)",
        "CALC filter dram reads == K*N (n < 50s)",
        "CALC ifmap/filter dram stop == -1 (n < 50s)",
        "ofmap no-drain: start==total, stop==total+ceil(W/bw)-1, writes==W (W<=D)",
        "ofmap write-buffer replica (start, stop, writes, stalls)",
        "overall util == MNK*100/(total*R*C)",
        "sram ifmap/filter reads & ofmap writes counts",
        "USER: dram start == -min(ceil(A/bw), stream lines)",
        "USER: dram reads == fill + chunks*ceil(P/bw)*bw, stop == -1 + chunks*(ceil(P/bw)+1)",
        "USER, both operands fit the active half: no read traffic after cycle 0; "
        "write-buffer replica (bw=Bandwidth) gives stalls/ofmap start/stop/writes",
    ]}
    user_rows = []
    big_calc = []
    for r in rows:
        cid = f"{r['case_id']}/{r['layer_name']}"
        df, R, C = r["dataflow"], I(r["array_rows"]), I(r["array_cols"])
        M, N, K = I(r["m"]), I(r["n"]), I(r["k"])
        tot, st = I(r["total_cycles"]), I(r["stall_cycles"])
        f, L = folds_L(df, R, C, M, N, K)
        t["cycles: total-stall == folds*L-1 (all rows)"].check(
            tot - st == f * L - 1, f"{cid}: {tot}-{st} vs {f}*{L}-1={f*L-1}")
        ifs, ofs = I(r["dram_ifmap_start_cycle"]), I(r["dram_filter_start_cycle"])
        t["incl_prefetch == ofmap_dram_stop - min(ifmap,filter dram start)"].check(
            I(r["total_cycles_incl_prefetch"]) == I(r["dram_ofmap_stop_cycle"]) - min(ifs, ofs),
            cid)
        t["overall util == MNK*100/(total*R*C)"].check(
            abs(float(r["overall_util_pct"]) - M * N * K * 100 / (tot * R * C)) < 1e-9, cid)
        n_if, im2col_valid, n_f = operand_sizes(r)
        # SRAM access counts
        sr_if = M * K * (math.ceil(N / C) if df in ("os", "ws") else 1)
        sr_f = K * N * (math.ceil(M / R) if df == "os" else (math.ceil(M / C) if df == "is" else 1))
        if df == "os":
            sr_o = M * N + f * (R + C)
        elif df in ("ws", "is"):
            sr_o = M * N * math.ceil(K / R)
        t["sram ifmap/filter reads & ofmap writes counts"].check(
            (I(r["sram_ifmap_reads"]), I(r["sram_filter_reads"]), I(r["sram_ofmap_writes"]))
            == (sr_if, sr_f, sr_o),
            f"{cid}: got {(r['sram_ifmap_reads'], r['sram_filter_reads'], r['sram_ofmap_writes'])}"
            f" want {(sr_if, sr_f, sr_o)}")
        if r["interface_bandwidth"] != "CALC":
            user_rows.append(check_user(r, t, cid, args))
            continue
        t["CALC: stall_cycles == 0"].check(st == 0, f"{cid}: stall={st}")
        fi, ff = first_request(df, R, C, M, N, K)
        if st == 0:
            t["sram start == first_request+1 (CALC)"].check(
                (I(r["sram_ifmap_start_cycle"]), I(r["sram_filter_start_cycle"])) == (fi + 1, ff + 1),
                f"{cid}: got {r['sram_ifmap_start_cycle']},{r['sram_filter_start_cycle']} "
                f"want {fi+1},{ff+1}")
        ikb, fkb, okb = I(r["ifmap_sram_kb"]), I(r["filter_sram_kb"]), I(r["ofmap_sram_kb"])
        for op, n, kb, fr, key in (("ifmap", n_if, ikb, fi, "CALC ifmap dram start formula"),
                                   ("filter", n_f, fkb, ff, "CALC filter dram start formula")):
            pred = calc_dram_start(n, kb, fr)
            got = I(r[f"dram_{op}_start_cycle"])
            s = kb * 1024 // 100
            t[key].check(got == pred, f"{cid}: n={n} s={s} 50s={50*s} first={fr} got {got} pred {pred}")
            if n < 50 * s:
                reads = I(r[f"dram_{op}_reads"])
                kk = ("CALC ifmap dram reads == distinct n (n < 50s)" if op == "ifmap"
                      else "CALC filter dram reads == K*N (n < 50s)")
                t[kk].check(reads == n, f"{cid}: reads={reads} n={n}")
                t["CALC ifmap/filter dram stop == -1 (n < 50s)"].check(
                    I(r[f"dram_{op}_stop_cycle"]) == -1, f"{cid} {op}")
            else:
                big_calc.append((cid, op, n, s, I(r[f"dram_{op}_reads"]),
                                 I(r[f"dram_{op}_start_cycle"]), I(r[f"dram_{op}_stop_cycle"]), tot))
        # OFMAP
        W = M * N * (1 if df == "os" else math.ceil(K / R))
        total_words = okb * 1024
        D = total_words - math.ceil(total_words / 2)
        bw = C
        if W <= D:
            t["ofmap no-drain: start==total, stop==total+ceil(W/bw)-1, writes==W (W<=D)"].check(
                (I(r["dram_ofmap_start_cycle"]), I(r["dram_ofmap_stop_cycle"]),
                 I(r["dram_ofmap_writes"])) == (tot, tot + math.ceil(W / bw) - 1, W),
                f"{cid}: got {r['dram_ofmap_start_cycle']},{r['dram_ofmap_stop_cycle']},"
                f"{r['dram_ofmap_writes']} want {tot},{tot + math.ceil(W / bw) - 1},{W}")
        if not args.no_replica:
            counts = ofmap_row_counts(df, R, C, M, N, K)
            assert sum(counts) == W and len(counts) == f * L, (cid, sum(counts), W)
            stl, last, ds, de, wr = write_buffer_replica(counts, total_words, bw)
            got = (st, I(r["dram_ofmap_start_cycle"]), I(r["dram_ofmap_stop_cycle"]),
                   I(r["dram_ofmap_writes"]))
            t["ofmap write-buffer replica (start, stop, writes, stalls)"].check(
                got == (stl, ds, de, wr), f"{cid}: got {got} replica {(stl, ds, de, wr)} W={W} D={D}")

    for v in t.values():
        v.report(args.verbose)
    if user_rows:
        print("\nUSER rows: per operand  n=distinct words, S=fetch-stream length (prefetch matrix,"
              " -1 padding incl.), sets=non-(-1) stream words / ceil(SRAM/100) (active half ="
              " 50 sets), p=passes a fold-order re-stream needs, reads, chunks (window advances),"
              " sane=ceil((p*stream - A)/P) chunks if the stream does not fit")
        for u in user_rows:
            print("   ", u)
    if big_calc:
        print("\nCALC operands with n >= 50*s (window slides during the run):")
        print("  case/layer, operand, n, s, dram_reads, start, stop, total_cycles")
        for b in big_calc[: (None if args.verbose else 40)]:
            print("   ", b)


if __name__ == "__main__":
    main()
