"""Case list for the SCALE-Sim v3 parity goldens (see make_scalesim_goldens.py).

Pure standard library, importable without SCALE-Sim.  A *case* is one SCALE-Sim
config (array, dataflow, SRAM sizes, interface-bandwidth mode) plus one topology
file of one or more layers of a single kind (all GEMM or all conv).

Families (case_id prefix):

* ``gemm_calc_*``  GEMM layers (ragged and aligned), 512 KB SRAMs, CALC mode, on
  10 arrays (4x4 .. 256x256, non-square, odd) x os/ws/is.  Exact-parity set.
* ``conv_calc_*``  conv layers (3x3 s1/s2, 7x7 s2 on 3 channels, 1x1, 5x5 s3,
  2x2 s3, non-square 30x17 ifmap, windows that run past the unpadded ifmap
  edge), 512 KB, CALC, on 5 arrays x os/ws/is.  Exact-parity set.
* ``resnet_calc_*`` ResNet-18-like unpadded conv set (input 112x112), 512 KB,
  CALC, 32x32 and 128x128 x os/ws/is.
* ``med_calc_*``  16 KB / 64 KB SRAMs in CALC mode: no read stalls, but OFMAP
  writes (OS: M*N, WS/IS: M*N*ceil(K/R) partial sums) exceed half the OFMAP
  SRAM so the write buffer drains mid-run (and may stall); also exercises the
  ``n >= 50*s`` branch of the CALC prefetch estimate.
* ``user_*``  small SRAMs (4-64 KB) in USER mode with 4/10/32 words/cycle
  (Bandwidth = IfmapSRAMBankBandwidth = FilterSRAMBankBandwidth, 1 bank):
  SCALE-Sim's DRAM-stall model.

No depthwise layers (SCALE-Sim expands any layer whose name contains 'DP').
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# ----------------------------------------------------------------------------
# Layer / case records
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GemmLayer:
    name: str
    m: int
    n: int
    k: int

    kind = "gemm"

    def mnk(self):
        return self.m, self.n, self.k

    def csv_row(self):
        return f"{self.name}, {self.m}, {self.n}, {self.k},"


@dataclass(frozen=True)
class ConvLayer:
    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filter: int
    stride: int

    kind = "conv"

    def ofmap_hw(self):
        # SCALE-Sim: no padding, E = ceil((H - R + s) / s)
        eh = math.ceil((self.ifmap_h - self.filter_h + self.stride) / self.stride)
        ew = math.ceil((self.ifmap_w - self.filter_w + self.stride) / self.stride)
        return eh, ew

    def mnk(self):
        eh, ew = self.ofmap_hw()
        return eh * ew, self.num_filter, self.filter_h * self.filter_w * self.channels

    def csv_row(self):
        return (f"{self.name}, {self.ifmap_h}, {self.ifmap_w}, {self.filter_h}, "
                f"{self.filter_w}, {self.channels}, {self.num_filter}, {self.stride},")


GEMM_HEADER = "Layer, M, N, K,"
CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
               "Channels, Num Filter, Strides,")


@dataclass
class Case:
    case_id: str
    kind: str                 # "gemm" | "conv"
    dataflow: str             # "os" | "ws" | "is"
    rows: int                 # ArrayHeight
    cols: int                 # ArrayWidth
    ifmap_kb: int
    filter_kb: int
    ofmap_kb: int
    mode: str = "CALC"        # InterfaceBandwidth: CALC | USER
    bw: int | None = None     # words/cycle, USER mode only
    layers: list = field(default_factory=list)

    # -- file contents -------------------------------------------------------
    def config_text(self) -> str:
        bw = self.bw if self.bw is not None else 10
        return f"""[general]
run_name = {self.case_id}

[architecture_presets]
ArrayHeight: {self.rows}
ArrayWidth: {self.cols}
IfmapSramSzkB: {self.ifmap_kb}
FilterSramSzkB: {self.filter_kb}
OfmapSramSzkB: {self.ofmap_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : {bw}
Dataflow : {self.dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {bw}
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {bw}
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {self.mode}
UseRamulatorTrace: False
"""

    def topology_text(self) -> str:
        header = GEMM_HEADER if self.kind == "gemm" else CONV_HEADER
        return "\n".join([header] + [l.csv_row() for l in self.layers]) + "\n"

    # -- cost model (to keep SCALE-Sim runs bounded and to schedule) ---------
    def est_seconds(self) -> float:
        return 0.5 + sum(layer_cost_seconds(self.dataflow, self.rows, self.cols, l, self.mode)
                         for l in self.layers)


# ----------------------------------------------------------------------------
# Stall-free cycle model (SCALE-Sim v3, see scalesim-notes.md section 3)
# ----------------------------------------------------------------------------


def folds_and_fold_len(df: str, R: int, C: int, M: int, N: int, K: int):
    if df == "os":
        return math.ceil(M / R) * math.ceil(N / C), K + R + C - 2
    if df == "ws":
        return math.ceil(K / R) * math.ceil(N / C), 2 * R + C + M - 2
    if df == "is":
        return math.ceil(K / R) * math.ceil(M / C), 2 * R + C + N - 2
    raise ValueError(df)


def compute_rows(df, R, C, layer) -> int:
    f, L = folds_and_fold_len(df, R, C, *layer.mnk())
    return f * L


def layer_cost_seconds(df, R, C, layer, mode="CALC") -> float:
    """Rough SCALE-Sim 3.0.0 wall time of one layer (fitted on the goldens' scalesim_seconds):
    a per-demand-row overhead, a per-SRAM-access cost and the per-element prefetch roll-out."""
    M, N, K = layer.mnk()
    rows = compute_rows(df, R, C, layer)
    if df == "os":
        acc = M * K * math.ceil(N / C) + K * N * math.ceil(M / R) + M * N
    elif df == "ws":
        acc = M * K * math.ceil(N / C) + K * N + M * N * math.ceil(K / R)
    else:
        acc = M * K + K * N * math.ceil(M / C) + M * N * math.ceil(K / R)
    s = 3.3e-5 * rows + 6.5e-7 * acc + 1.3e-6 * (M * K + K * N)
    if mode == "USER":
        s += 1.0e-6 * (M * K + K * N)         # fetch-matrix copy, per element
    return s


# ----------------------------------------------------------------------------
# Case selection
# ----------------------------------------------------------------------------

DATAFLOWS = ("os", "ws", "is")

ARRAYS = [(4, 4), (8, 8), (16, 16), (32, 32), (8, 32), (32, 8), (13, 7),
          (64, 64), (128, 128), (256, 256)]

MAX_ROWS = 200_000          # stall-free demand rows (cycles) per layer

# Ragged GEMMs used on every array / dataflow (name encodes M x N x K)
GEMM_COMMON = [
    GemmLayer("g100x37x53", 100, 37, 53),
    GemmLayer("g257x129x65", 257, 129, 65),
    GemmLayer("gemv1x512x256", 1, 512, 256),
    GemmLayer("g512x1x64", 512, 1, 64),
    GemmLayer("g33x33x33", 33, 33, 33),
    GemmLayer("g7x300x5", 7, 300, 5),
]


def _gemm_extra(R, C):
    """Array-specific layers: one exactly aligned, one larger ragged one."""
    out = [GemmLayer(f"g{2*R}x{2*C}x{3*R}", 2 * R, 2 * C, 3 * R)]
    big = {64: (300, 200, 250), 128: (500, 300, 400), 256: (600, 520, 300)}.get(R if R == C else 0)
    if big:
        out.append(GemmLayer(f"g{big[0]}x{big[1]}x{big[2]}", *big))
    return out


CONV_SET = [
    ConvLayer("c3s1_18x18x16", 18, 18, 3, 3, 16, 32, 1),
    ConvLayer("c3s2_33x33x8", 33, 33, 3, 3, 8, 16, 2),
    ConvLayer("c3s2edge_30x30x4", 30, 30, 3, 3, 4, 8, 2),      # last window runs past the edge
    ConvLayer("c7s2_64x64x3", 64, 64, 7, 7, 3, 16, 2),          # 7x7 s2 on 3 channels, edge too
    ConvLayer("c1x1_28x28x32", 28, 28, 1, 1, 32, 48, 1),
    ConvLayer("c5s3_20x20x4", 20, 20, 5, 5, 4, 8, 3),
    ConvLayer("c2s3_17x17x6", 17, 17, 2, 2, 6, 10, 3),          # stride > filter: skipped pixels
    ConvLayer("c3s1_30x17x5", 30, 17, 3, 3, 5, 12, 1),          # non-square ifmap
    ConvLayer("c3s1_9x9x64", 9, 9, 3, 3, 64, 96, 1),            # deep K, few pixels
]
CONV_ARRAYS = [(8, 8), (13, 7), (32, 32), (128, 128)]
# arrays that get only a subset of CONV_SET (keeps the run time bounded)
CONV_SUBSET = {(8, 8): {"c3s1_18x18x16", "c7s2_64x64x3", "c1x1_28x28x32", "c2s3_17x17x6",
                        "c3s1_30x17x5", "c3s2edge_30x30x4"},
               (128, 128): {"c3s2_33x33x8", "c7s2_64x64x3", "c5s3_20x20x4", "c3s1_30x17x5",
                            "c3s1_9x9x64", "c1x1_28x28x32"}}

# ResNet-18-like, unpadded (like SCALE-Sim's own Resnet18.csv), input 112x112,
# repeated identical layers dropped.
RESNET_SET = [
    ConvLayer("conv1", 112, 112, 7, 7, 3, 64, 2),
    ConvLayer("conv2_x", 28, 28, 3, 3, 64, 64, 1),
    ConvLayer("conv3_1", 28, 28, 3, 3, 64, 128, 2),
    ConvLayer("conv3_sc", 28, 28, 1, 1, 64, 128, 2),
    ConvLayer("conv3_x", 14, 14, 3, 3, 128, 128, 1),
    ConvLayer("conv4_1", 14, 14, 3, 3, 128, 256, 2),
    ConvLayer("conv4_sc", 14, 14, 1, 1, 128, 256, 2),
    ConvLayer("conv4_x", 7, 7, 3, 3, 256, 256, 1),
    ConvLayer("conv5_1", 7, 7, 3, 3, 256, 512, 2),
    ConvLayer("conv5_sc", 7, 7, 1, 1, 256, 512, 2),
    ConvLayer("conv5_x", 4, 4, 3, 3, 512, 384, 1),
    ConvLayer("fc", 1, 1, 1, 1, 512, 1000, 1),
]
RESNET_ARRAYS = [(32, 32)]

# Medium SRAMs, CALC: big OFMAP write volume relative to the OFMAP SRAM.
MED_GEMM = [
    GemmLayer("g256x256x64", 256, 256, 64),
    GemmLayer("g512x96x160", 512, 96, 160),
    GemmLayer("g1000x64x32", 1000, 64, 32),
]
MED_CONV = [
    ConvLayer("c3s1_34x34x16", 34, 34, 3, 3, 16, 64, 1),
    ConvLayer("c1x1_32x32x64", 32, 32, 1, 1, 64, 96, 1),
    ConvLayer("c3s2_41x41x8", 41, 41, 3, 3, 8, 48, 2),
]
MED_CONFIGS = [  # (rows, cols, sram_kb, kind)
    (16, 16, 16, "gemm"),
    (32, 32, 64, "gemm"),
    (8, 32, 16, "gemm"),
    (32, 32, 16, "conv"),
    (13, 7, 64, "conv"),
]

# USER mode (DRAM-stall model).  (id, df, rows, cols, (ifmap,filter,ofmap) KB, bw, kind, layers)
USER_GEMM_A = [GemmLayer("g128x128x128", 128, 128, 128), GemmLayer("g100x37x53", 100, 37, 53),
               GemmLayer("g64x256x96", 64, 256, 96)]
USER_GEMM_SMALL = [GemmLayer("g64x64x64", 64, 64, 64), GemmLayer("g50x70x30", 50, 70, 30)]
USER_GEMM_BIG = [GemmLayer("g512x256x128", 512, 256, 128), GemmLayer("g300x200x150", 300, 200, 150)]
USER_CONV = [ConvLayer("c3s1_18x18x16", 18, 18, 3, 3, 16, 32, 1),
             ConvLayer("c3s2_33x33x8", 33, 33, 3, 3, 8, 16, 2),
             ConvLayer("c1x1_14x14x64", 14, 14, 1, 1, 64, 64, 1)]

USER_CONFIGS = [
    ("os", 32, 32, (16, 16, 16), 10, "gemm", USER_GEMM_A),
    ("ws", 32, 32, (16, 16, 16), 10, "gemm", USER_GEMM_A),
    ("is", 32, 32, (16, 16, 16), 10, "gemm", USER_GEMM_A),
    ("os", 16, 16, (4, 4, 4), 4, "gemm", USER_GEMM_SMALL),
    ("ws", 16, 16, (4, 4, 4), 4, "gemm", USER_GEMM_SMALL),
    ("is", 16, 16, (4, 4, 4), 4, "gemm", USER_GEMM_SMALL),
    ("os", 64, 64, (64, 64, 64), 32, "gemm", USER_GEMM_BIG),
    ("ws", 64, 64, (64, 64, 64), 32, "gemm", USER_GEMM_BIG),
    ("is", 64, 64, (64, 64, 64), 32, "gemm", USER_GEMM_BIG),
    ("os", 16, 16, (8, 8, 8), 10, "conv", USER_CONV),
    ("ws", 16, 16, (8, 8, 8), 10, "conv", USER_CONV),
    ("is", 16, 16, (8, 8, 8), 10, "conv", USER_CONV),
    ("os", 8, 32, (8, 64, 16), 4, "gemm", USER_GEMM_SMALL),
    ("ws", 32, 8, (64, 8, 16), 10, "gemm", USER_GEMM_SMALL),
    ("is", 13, 7, (32, 32, 32), 4, "conv", USER_CONV[:2]),
]


def _fits(df, R, C, layer):
    return compute_rows(df, R, C, layer) <= MAX_ROWS


def build_cases() -> list:
    cases = []

    # A. GEMM, ample SRAM, CALC
    for (R, C) in ARRAYS:
        for df in DATAFLOWS:
            layers = [l for l in GEMM_COMMON + _gemm_extra(R, C) if _fits(df, R, C, l)]
            cases.append(Case(f"gemm_calc_{df}_{R}x{C}", "gemm", df, R, C, 512, 512, 512,
                              layers=layers))

    # B. conv, ample SRAM, CALC
    for (R, C) in CONV_ARRAYS:
        for df in DATAFLOWS:
            keep = CONV_SUBSET.get((R, C))
            layers = [l for l in CONV_SET
                      if _fits(df, R, C, l) and (keep is None or l.name in keep)]
            cases.append(Case(f"conv_calc_{df}_{R}x{C}", "conv", df, R, C, 512, 512, 512,
                              layers=layers))

    # B2. ResNet-18-like
    for (R, C) in RESNET_ARRAYS:
        for df in DATAFLOWS:
            layers = [l for l in RESNET_SET if _fits(df, R, C, l)]
            cases.append(Case(f"resnet_calc_{df}_{R}x{C}", "conv", df, R, C, 512, 512, 512,
                              layers=layers))

    # C. medium SRAM, CALC
    for (R, C, kb, kind) in MED_CONFIGS:
        src = MED_GEMM if kind == "gemm" else MED_CONV
        for df in DATAFLOWS:
            layers = [l for l in src if _fits(df, R, C, l)]
            cases.append(Case(f"med_calc_{kind}_{df}_{R}x{C}_{kb}k", kind, df, R, C, kb, kb, kb,
                              layers=layers))

    # D. small SRAM, USER
    for (df, R, C, kbs, bw, kind, layers) in USER_CONFIGS:
        kb_tag = "_".join(str(x) for x in kbs) if len(set(kbs)) > 1 else str(kbs[0])
        layers = [l for l in layers if _fits(df, R, C, l)]
        cases.append(Case(f"user_{kind}_{df}_{R}x{C}_{kb_tag}k_bw{bw}", kind, df, R, C, *kbs,
                          mode="USER", bw=bw, layers=layers))

    ids = [c.case_id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for c in cases:
        assert c.layers, c.case_id
        for l in c.layers:
            assert "DP" not in l.name, l.name
    return cases


CASES = build_cases()


if __name__ == "__main__":
    tot = 0.0
    nl = 0
    for c in CASES:
        e = c.est_seconds()
        tot += e
        nl += len(c.layers)
        mx = max(compute_rows(c.dataflow, c.rows, c.cols, l) for l in c.layers)
        print(f"{c.case_id:45s} layers={len(c.layers):2d} est={e:7.1f}s max_rows={mx}")
    print(f"{len(CASES)} cases, {nl} layers, est total {tot:.0f} s")
