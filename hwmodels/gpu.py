"""The GPU section of a hardware description: tensor-core rates per format, CUDA cores, power, links.

A GPU design is a `Hardware` with `target: gpu` and this `gpu:` section. The rest of the
description keeps its usual meaning, read the GPU way:
  - `array.cores` = streaming multiprocessors (SMs); `array.rows x array.cols` = dense FP16
    tensor-core MACs per SM per clock (A100: 4 tensor cores x 256 = 1024 = 32 x 32);
  - `clock_hz` = the boost clock tensor-core work runs at;
  - `memory` = exactly three levels, innermost first: shared memory (capacity and bandwidth
    PER SM, `buffering` = the pipeline stages a kernel keeps in flight), L2 (whole chip), and
    the device DRAM (HBM/GDDR; unbounded in the hierarchy, its size is `dram_capacity_bytes`);
  - `static_power_w` = board power at idle.

Tensor-core peak for a math format f (dense; "with sparsity" datasheet figures are 2x):
    MACs per SM per clock = rows * cols * tensor_tops_dense[f] / tensor_tops_dense['fp16']
so the vendor TOPS figures are kept as published and a clock override scales every rate.
Formats absent from `tensor_tops_dense` have no tensor-core path on this GPU.

`sources` maps a field path (e.g. `gpu.tensor_tops_dense.int8`, `clock_hz`,
`memory.hbm.read_bandwidth_bytes_per_cycle`) to where the number comes from; an entry
containing "[unverified]" marks a figure that was not checked against a primary source.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator

# Names a math format may have in `tensor_tops_dense` (tf32: fp32 operands on tensor cores).
TENSOR_FORMATS = ("fp8_e4m3", "fp8_e5m2", "fp16", "bf16", "tf32", "int8", "int4", "binary")


class GpuSpec(BaseModel):
    """SM-level compute, efficiencies, overheads, power and capacity of one GPU."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    architecture: str = Field(min_length=1)
    tensor_tops_dense: dict[str, PositiveFloat]
    cuda_core_lanes_per_sm: PositiveInt
    register_file_bytes_per_sm: PositiveInt
    max_ctas_per_sm: PositiveInt = 32
    dram_capacity_bytes: PositiveInt
    dram_efficiency: float = Field(gt=0, le=1)
    l2_efficiency: float = Field(default=0.9, gt=0, le=1)
    smem_efficiency: float = Field(default=0.9, gt=0, le=1)
    tensor_efficiency: float = Field(default=1.0, gt=0, le=1)
    kernel_overhead_s: NonNegativeFloat
    tdp_w: PositiveFloat
    host_link_bytes_per_s: PositiveFloat
    sources: dict[str, str] = {}

    @field_validator("tensor_tops_dense")
    @classmethod
    def _known_formats(cls, rates: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(rates) - set(TENSOR_FORMATS))
        if unknown:
            raise ValueError(f"tensor format {unknown[0]!r} is not known: allowed are {', '.join(TENSOR_FORMATS)}")
        if "fp16" not in rates:
            raise ValueError("tensor_tops_dense needs the fp16 rate (the array's rows x cols are FP16 MACs)")
        return rates
