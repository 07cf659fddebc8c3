"""The FPGA section of a hardware description: device resources, packing rules, off-chip channels.

An FPGA design is a `Hardware` with `target: fpga` and this `fpga:` section: the PE array
(`array`, `pe`) is built on the fabric, `memory[0]` is an on-chip buffer made of BRAM36 or URAM
blocks (`buffer_blocks`), the last level is the off-chip memory, reached through
`channels_used` HBM pseudo-channels (or DDR4 channels) per operand, each an independent
channel of `channel_bytes_per_s` at `channel_efficiency`.

Resources of a design (`resources`):
  MAC units            = rows * cols * cores, built from DSPs or LUTs (`mac_implementation`)
  DSP MACs per slice   DSP48E2: 4 for b_w, b_a <= 4 (DSP-Packing, Sommer et al. FPL'22; WP521);
                       2 for <= 8 (two INT8 MACs sharing an operand, WP486); 1 up to 18 x 27;
                       DSP58: 3 for <= 8 (three-element INT8 dot product, UG1273); 1 up to 24 x 27;
                       float: 1 DSP per multiply plus a LUT adder (FP_ADD_LUTS).
  LUTs per LUT-MAC     FINN (FINN-R, Blott et al. 2018; matrixvectoractivation lut_estimation):
                       mult = (2*ceil((W+A)/6) - 1) * (W+A); adder tree (W+A) * (2Q - 1) per PE of
                       Q = rows lanes; accumulator acc bits; total = 300 + 1.1 * P * (Q*mult + tree + acc).
  buffer blocks        max(ceil(capacity bits / block bits), ceil(read bits per cycle / (72 * 2 ports)))
                       (BRAM36 36 Kb, URAM 288 Kb; 72-bit ports, UG573/UG1273)
A design exceeding a device count (times `usable_fraction`, the share left after the shell)
is infeasible, with the resource named.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt

Operand = Literal["weight", "input", "output"]


class FpgaSpec(BaseModel):
    """Device resources, off-chip channels, fabric clock limit and power of one FPGA design."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str = Field(min_length=1)
    dsp_kind: Literal["dsp48e2", "dsp58"]
    dsps: NonNegativeInt
    luts: PositiveInt
    ffs: PositiveInt
    bram36: NonNegativeInt
    uram: NonNegativeInt
    usable_fraction: float = Field(default=1.0, gt=0, le=1)
    max_clock_hz: PositiveFloat
    mac_implementation: Literal["dsp", "lut"] = "dsp"
    buffer_blocks: Literal["bram36", "uram"] = "bram36"
    offchip: Literal["hbm", "ddr4"]
    channels: PositiveInt
    channel_bytes_per_s: PositiveFloat
    channel_efficiency: float = Field(gt=0, le=1)
    channels_used: dict[Operand, PositiveInt]
    offchip_capacity_bytes: PositiveInt
    fabric_energy_factor: PositiveFloat
    sources: dict[str, str] = {}
