"""Descriptions of the low-bit PE families (validated data; their models live in hwmodels.pe_*).

Every family shares `synthesized`: the name of a `pe:<name>` entry of the energy table. When
given, the PE's compute energy is that entry's energy per PE per compute cycle (all PEs
charged every cycle, the BitMoD / Bit Fusion simulators' convention) and its area that
entry's area; otherwise both come from the primitive operations the model counts.
Every family also shares `default_formats`: the operand formats the design runs an op with
when the op does not state them (OpFormats.unstated, e.g. a SCALE-Sim topology); a family
whose PEs cannot run INT8 states its native formats as the class default.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

from workloads.formats import parse_format

Role = Literal["weight", "activation", "output"]


class PESpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    synthesized: str | None = Field(None, pattern=r"^pe:[a-z0-9_]+$")
    default_formats: dict[Role, str] = {}

    @field_validator("default_formats")
    @classmethod
    def _canonical_formats(cls, formats: dict[str, str]) -> dict[str, str]:
        return {role: parse_format(name).name for role, name in formats.items()}


# ----------------------------------------------------------------------------- bit-serial

class StripesPE(PESpec):
    """Stripes (Judd et al., MICRO 2016): activations bit-serial, weights bit-parallel."""

    family: Literal["stripes"] = "stripes"
    lanes: PositiveInt = 1  # K elements (activation lanes) one serial inner-product unit takes per step
    weight_bits: PositiveInt = Field(16, le=16)
    max_activation_bits: PositiveInt = Field(16, le=16)
    accumulator_bits: PositiveInt = Field(32, le=64)


class LoomPE(PESpec):
    """Loom (Sharify et al., DAC 2018): weights and activations bit-serial, s activation bits per cycle."""

    family: Literal["loom"] = "loom"
    lanes: PositiveInt = 1  # K elements (activation lanes) one serial inner-product unit takes per step
    activation_bits_per_cycle: Literal[1, 2, 4] = 1
    max_bits: PositiveInt = Field(16, le=16)
    dynamic_precision: bool = True
    accumulator_bits: PositiveInt = Field(32, le=64)


class BitFusionPE(PESpec):
    """Bit Fusion (Sharma et al., ISCA 2018): a fusion unit of (pmax/pmin)^2 fusible bit-bricks."""

    family: Literal["bitfusion"] = "bitfusion"
    max_bits: PositiveInt = Field(8, le=16)
    min_bits: PositiveInt = Field(2, le=16)
    accumulator_bits: PositiveInt = Field(32, le=64)


class PragmaticPE(PESpec):
    """Bit-Pragmatic (Albericio et al., MICRO 2017): zero-bit skipping over activation oneffsets.

    `sync_lanes`: lanes advancing in lock-step (None = every lane of the array dimension).
    """

    family: Literal["pragmatic"] = "pragmatic"
    lanes: PositiveInt = 1  # K elements (activation lanes) one serial inner-product unit takes per step
    weight_bits: PositiveInt = Field(16, le=16)
    max_activation_bits: PositiveInt = Field(16, le=16)
    booth: bool = False
    sync_lanes: PositiveInt | None = None
    accumulator_bits: PositiveInt = Field(32, le=64)


class BitModPE(PESpec):
    """BitMoD (Chen et al., HPCA 2025): bit-serial weights x FP16 activations, per-group dequantization."""

    family: Literal["bitmod"] = "bitmod"
    lanes: PositiveInt = 4
    weight_bits_per_cycle: PositiveInt = 2
    max_weight_bits: PositiveInt = Field(8, le=16)
    scale_bits: PositiveInt = 8


# ----------------------------------------------------------------------------- LUT-based

class LutTensorCorePE(PESpec):
    """LUT Tensor Core (Mo et al., ISCA 2025): one weight bit-plane per cycle indexes 2^(g-1) FP16 tables."""

    family: Literal["lut_tensor_core"] = "lut_tensor_core"
    group: PositiveInt = Field(4, le=8)
    table_bits: PositiveInt = 16
    max_weight_bits: PositiveInt = Field(8, le=16)


class TMacPE(PESpec):
    """T-MAC-style CPU kernel (Wei et al., EuroSys 2025): g-bit indices into int8 tables, 16 lookups per instruction."""

    family: Literal["tmac"] = "tmac"
    group: PositiveInt = Field(4, le=8)
    lookups_per_instruction: PositiveInt = 16
    table_bits: PositiveInt = 8
    instructions_per_cycle: float = Field(1.0, gt=0)
    max_weight_bits: PositiveInt = Field(8, le=16)


class LutGemmPE(PESpec):
    """LUT-GEMM (Park et al., ICLR 2024): BCQ weights, tables over mu activations, no dequantization."""

    family: Literal["lut_gemm"] = "lut_gemm"
    mu: PositiveInt = Field(8, le=12)
    table_bits: PositiveInt = 16
    max_weight_bits: PositiveInt = Field(8, le=16)


# ----------------------------------------------------------------------------- shift-and-add

class MixPE(PESpec):
    """MixPE (Zhang et al., 2024): shift-and-add low-bit weights, dequantization once per group."""

    family: Literal["mixpe"] = "mixpe"
    max_bits: PositiveInt = Field(8, le=16)
    min_bits: PositiveInt = Field(4, le=16)
    accumulator_bits: PositiveInt = Field(32, le=64)


class ShiftAddLLMPE(LutGemmPE):
    """ShiftAddLLM (You et al., NeurIPS 2024): BCQ binary matrices x power-of-two scales via shifts, adds, lookups."""

    family: Literal["shiftaddllm"] = "shiftaddllm"  # type: ignore[assignment]


class ShiftPE(PESpec):
    """DeepShift / DenseShift: weights +-2^p (pow2 formats): integer shift, or FP exponent add."""

    family: Literal["shift"] = "shift"
    accumulator_format: str = "int32"
    default_formats: dict[Role, str] = {"weight": "pow2_k1"}


class LMulPE(PESpec):
    """L-Mul (Luo & Sun, 2024): an FP multiply approximated by one integer add over exponent|mantissa."""

    family: Literal["lmul"] = "lmul"
    accumulator_format: str = "fp32"
    default_formats: dict[Role, str] = {"weight": "fp16", "activation": "fp16", "output": "fp16"}


FAMILY_SPECS = (StripesPE, LoomPE, BitFusionPE, PragmaticPE, BitModPE, LutTensorCorePE, TMacPE, LutGemmPE,
                MixPE, ShiftAddLLMPE, ShiftPE, LMulPE)
