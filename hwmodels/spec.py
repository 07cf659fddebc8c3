"""The hardware description: PE, array, memory hierarchy, clock, node — validated once, frozen.

Units live in field names. Memory levels are ordered innermost first; the last level is the
backing store (capacity None = unbounded). A level's capacity and bandwidths are either one
number shared by every operand it holds or a per-operand mapping (e.g. SCALE-Sim's separate
ifmap/filter/ofmap SRAMs and DRAM channels).
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveFloat,
                      PositiveInt, field_validator, model_validator)

from hwmodels.fpga import FpgaSpec
from hwmodels.gpu import GpuSpec
from hwmodels.pe_specs import (BitFusionPE, BitModPE, LMulPE, LoomPE, LutGemmPE, LutTensorCorePE, MixPE,
                               PESpec, PragmaticPE, ShiftAddLLMPE, ShiftPE, StripesPE, TMacPE)
from workloads.errors import register_model
from workloads.formats import parse_format

Operand = Literal["weight", "input", "output"]
OPERANDS: tuple[str, ...] = ("weight", "input", "output")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MacPE(PESpec):
    """Multiply-accumulate PE with native weight/activation operand formats.

    One MAC per cycle at native precision; a wider integer operand is split into
    native-width slices, so passes = ceil(b_w/n_w) * ceil(b_a/n_a) cycles per MAC.
    `fp8_vs_int8_cost_ratio` k prices an FP8 multiplier + accumulator as k x an INT8 one
    (van Baalen et al. 2023: k in 1.5..2.8); None prices it from the table's FP fits.
    """

    family: Literal["mac"] = "mac"
    weight_format: str = "int8"
    activation_format: str = "int8"
    accumulator_format: str = "int32"
    fp8_vs_int8_cost_ratio: float | None = Field(None, ge=1.0, le=10.0)

    @field_validator("weight_format", "activation_format")
    @classmethod
    def _canonical(cls, name: str) -> str:
        return parse_format(name).name

    @field_validator("accumulator_format")
    @classmethod
    def _accumulator(cls, name: str) -> str:
        """Accumulators may be wider than operand formats: int<b> (b = 1..64) or a float format."""
        text = name.strip().lower()
        if text.startswith("int") and text[3:].isdigit() and 1 <= int(text[3:]) <= 64:
            return text
        return parse_format(name).name


PE = Annotated[Union[MacPE, StripesPE, LoomPE, BitFusionPE, PragmaticPE, BitModPE, LutTensorCorePE, TMacPE,
                     LutGemmPE, MixPE, ShiftAddLLMPE, ShiftPE, LMulPE], Field(discriminator="family")]


class ArraySpec(_Frozen):
    """A rows x cols PE array; `cores` identical arrays split an op's folds.

    `organization`: `systolic` passes operands PE to PE, so a fold pays the wavefront skew
    (sim.mapping); `broadcast` drives each input to every PE of its row and each weight to every
    PE of its column in the same cycle and reduces products in pipelined adder trees (DaDianNao's
    NFU, Stripes' tiles), so all PEs start together and a fold lasts its streaming cycles.
    Broadcast arrays are output-stationary (each PE keeps its output's accumulator).
    """

    rows: PositiveInt
    cols: PositiveInt
    dataflow: Literal["os", "ws", "is"] = "os"
    cores: PositiveInt = 1
    organization: Literal["systolic", "broadcast"] = "systolic"

    @model_validator(mode="after")
    def _broadcast_is_output_stationary(self) -> "ArraySpec":
        if self.organization == "broadcast" and self.dataflow != "os":
            raise ValueError(f"organization broadcast needs dataflow os (got {self.dataflow}): a broadcast array "
                             "keeps each output's accumulator in its PE")
        return self


class VectorUnitSpec(_Frozen):
    """SIMD unit for element-wise/reduction ops; lanes None = one lane per array column."""

    lanes: PositiveInt | None = None
    ops_per_lane_per_cycle: PositiveInt = 1


PerOperandInt = Union[PositiveInt, dict[Operand, PositiveInt]]
PerOperandFloat = Union[PositiveFloat, dict[Operand, PositiveFloat]]


class MemoryLevel(_Frozen):
    """One level of the memory hierarchy.

    `buffering` = 2 is double buffering: the level's capacity for an operand is split into
    `buffering` equal buffers, one being read by the level below while the others fill.
    `psum_write_through`: every partial sum the array writes here is forwarded to the next
    level (SCALE-Sim's OFMAP SRAM) instead of being accumulated in place.
    """

    name: str = Field(min_length=1)
    holds: tuple[Operand, ...] = OPERANDS
    capacity_bytes: PerOperandInt | None = None
    read_bandwidth_bytes_per_cycle: PerOperandFloat
    write_bandwidth_bytes_per_cycle: PerOperandFloat
    latency_cycles: NonNegativeInt = 0
    read_energy_pj_per_byte: NonNegativeFloat = 0.0
    write_energy_pj_per_byte: NonNegativeFloat = 0.0
    buffering: PositiveInt = 2
    psum_write_through: bool = False
    area_mm2: NonNegativeFloat | None = None  # None: priced from capacity (sim.energy.level_area_mm2)

    @model_validator(mode="after")
    def _per_operand_keys(self) -> "MemoryLevel":
        needs = {"capacity_bytes": set(self.holds),
                 "read_bandwidth_bytes_per_cycle": set(self.holds) & {"input", "weight"},
                 "write_bandwidth_bytes_per_cycle": set(self.holds) & {"output"}}
        for field, required in needs.items():
            value = getattr(self, field)
            if isinstance(value, dict) and not (required <= set(value) <= set(self.holds)):
                raise ValueError(f"{field} names operands {sorted(value)}; level '{self.name}' holds "
                                 f"{sorted(self.holds)} and needs at least {sorted(required)}: give one "
                                 "number or one per operand")
        return self

    def capacity_for(self, operand: str) -> float:
        """Bytes available to `operand` (a shared capacity is split evenly among held operands)."""
        if self.capacity_bytes is None:
            return float("inf")
        if isinstance(self.capacity_bytes, dict):
            return float(self.capacity_bytes[operand])
        return self.capacity_bytes / len(self.holds)

    def read_bandwidth(self, operand: str) -> float:
        return _per_operand(self.read_bandwidth_bytes_per_cycle, operand)

    def write_bandwidth(self, operand: str) -> float:
        return _per_operand(self.write_bandwidth_bytes_per_cycle, operand)

    @property
    def shared_channel(self) -> bool:
        """True when all operands share one read and one write channel."""
        return not isinstance(self.read_bandwidth_bytes_per_cycle, dict)


def _per_operand(value, operand: str) -> float:
    return float(value[operand]) if isinstance(value, dict) else float(value)


class MapperSpec(_Frozen):
    """Mapping constraints and the memory-timing assumption.

    fold_order: the loop order over array folds (`cols_outer` is SCALE-Sim's: for each
    column fold, every row fold); `auto` picks the order with less backing-store traffic.
    memory_model: `double_buffered` stalls compute when a tile's operands arrive late;
    `ideal_prefetch` (SCALE-Sim's InterfaceBandwidth=CALC) never stalls reads during compute
    and only pays the initial buffer fill, reporting the bandwidth reads would need;
    `scalesim_v3_user` emulates SCALE-Sim v3.0.0's InterfaceBandwidth=USER memory system,
    quirks included (see sim.scalesim_user), to cross-check against SCALE-Sim — not a
    physical model; it needs one SRAM level holding every operand, the backing store, one core.
    """

    fold_order: Literal["auto", "cols_outer", "rows_outer"] = "auto"
    memory_model: Literal["double_buffered", "ideal_prefetch", "scalesim_v3_user"] = "double_buffered"


@register_model
class Hardware(_Frozen):
    """A complete design: PE + array + memory hierarchy + clock + technology node."""

    name: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    target: Literal["asic", "fpga", "gpu"] = "asic"
    clock_hz: PositiveFloat
    technology_node_nm: PositiveInt = 45
    pe: PE = MacPE()
    array: ArraySpec
    vector_unit: VectorUnitSpec = VectorUnitSpec()
    memory: tuple[MemoryLevel, ...] = Field(min_length=1)
    mapper: MapperSpec = MapperSpec()
    static_power_w: NonNegativeFloat = 0.0
    gpu: GpuSpec | None = None
    fpga: FpgaSpec | None = None

    @field_validator("technology_node_nm")
    @classmethod
    def _known_node(cls, node: int) -> int:
        from hwmodels.costs import NATIVE_TABLES
        from hwmodels.technology import SUPPORTED_NODES_NM
        allowed = sorted({*SUPPORTED_NODES_NM, *NATIVE_TABLES}, reverse=True)
        if node not in allowed:
            raise ValueError(f"technology node {node} nm is not supported: allowed are "
                             f"{', '.join(str(n) for n in allowed)}")
        return node

    @model_validator(mode="after")
    def _hierarchy(self) -> "Hardware":
        names = [level.name for level in self.memory]
        if len(set(names)) != len(names):
            raise ValueError(f"memory level names must be unique, got {names}")
        backing = self.memory[-1]
        if backing.capacity_bytes is not None:
            raise ValueError(f"the outermost memory level '{backing.name}' is the backing store: "
                             "its capacity_bytes must be null (unbounded)")
        if set(backing.holds) != set(OPERANDS):
            raise ValueError(f"the backing store '{backing.name}' must hold every operand {list(OPERANDS)}")
        if self.target == "asic" and len(self.memory) < 2:
            raise ValueError(f"an ASIC design needs an on-chip level below the backing store '{backing.name}': "
                             "the array reads and writes through that level's buffers")
        for level in self.memory[:-1]:
            if level.capacity_bytes is None:
                raise ValueError(f"memory level '{level.name}' needs capacity_bytes (only the "
                                 "outermost level is unbounded)")
        if (self.target == "gpu") != (self.gpu is not None):
            raise ValueError("a gpu section is required for target gpu and allowed only there")
        if (self.target == "fpga") != (self.fpga is not None):
            raise ValueError("an fpga section is required for target fpga and allowed only there")
        if self.fpga is not None and sum(self.fpga.channels_used.values()) > self.fpga.channels:
            raise ValueError(f"fpga.channels_used takes {sum(self.fpga.channels_used.values())} channels; "
                             f"{self.fpga.device} has {self.fpga.channels}")
        if self.target == "gpu" and len(self.memory) != 3:
            raise ValueError("a gpu design has three memory levels: shared memory (per SM), L2, DRAM")
        if self.mapper.memory_model == "scalesim_v3_user" and (
                self.array.organization != "systolic" or len(self.memory) != 2
                or set(self.memory[0].holds) != set(OPERANDS) or self.array.cores != 1):
            raise ValueError("memory_model scalesim_v3_user emulates SCALE-Sim: it needs a systolic array, exactly "
                             "two memory levels (an SRAM holding every operand, then DRAM) and one core")
        return self

    @property
    def vector_lanes(self) -> int:
        return self.vector_unit.lanes or self.array.cols
