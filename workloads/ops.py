"""Ops: the kernels a workload is made of (GEMM, 2-D convolution, element-wise/reduction).

Each op is a frozen pydantic model validated once, at the edge; it carries its operand
formats (weight, activation, output) and quantization group size. Ops know their shape
and their GEMM view; they know nothing about hardware.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from workloads.errors import register_model
from workloads.formats import parse_format
from workloads.values import OpValues


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@register_model
class OpFormats(_Frozen):
    """Operand number formats of an op, by canonical format name (see `quarch formats`).

    `group_size` is the number of contiguous weights sharing one quantization scale along
    the reduction dimension K (None = per-channel/per-tensor scales, which add no
    per-element storage); each group's scale takes `scale_bits` bits.
    `unstated` names the operands whose format the source did not give (a SCALE-Sim topology,
    an inline op without w=/a=/o=): they hold the INT8 default until a design gives them its
    own default formats (hwmodels.pe.resolve_formats); stated formats are never replaced.
    """

    weight: str = "int8"
    activation: str = "int8"
    output: str = "int8"
    group_size: PositiveInt | None = None
    scale_bits: PositiveInt = 16
    unstated: tuple[Literal["weight", "activation", "output"], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _note_unstated(cls, data):
        """Without an explicit `unstated`, the operands whose format is missing from the input are unstated."""
        if isinstance(data, dict) and "unstated" not in data:
            missing = tuple(role for role in ("weight", "activation", "output") if role not in data)
            return {**data, "unstated": missing}
        return data

    @field_validator("weight", "activation", "output")
    @classmethod
    def _canonical(cls, name: str) -> str:
        return parse_format(name).name

    def weight_bytes(self, elements: int) -> float:
        """Storage of `elements` weights: element bits + amortized scale bits (scale_bits per group)."""
        fmt = parse_format(self.weight)
        bits = fmt.bits_per_element
        if self.group_size is not None and fmt.kind != "block":
            bits += self.scale_bits / self.group_size
        return elements * bits / 8.0

    def activation_bytes(self, elements: int) -> float:
        return elements * parse_format(self.activation).bits_per_element / 8.0

    def output_bytes(self, elements: int) -> float:
        return elements * parse_format(self.output).bits_per_element / 8.0


class GemmView(_Frozen):
    """An op lowered to `instances` independent GEMMs: out[M,N] = in[M,K] @ w[K,N].

    `distinct_input_words` is the number of distinct input elements the M x K operand
    reads (smaller than M*K for overlapping convolution windows).
    """

    m: int
    n: int
    k: int
    instances: int = 1
    distinct_input_words: int

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.instances


class _OpBase(_Frozen):
    name: str = Field(min_length=1)
    repeat: PositiveInt = 1
    formats: OpFormats = OpFormats()
    values: OpValues | None = None  # value tensors for value-dependent PEs (workloads.values)


@register_model
class Gemm(_OpBase):
    """Batched matrix multiply: `batch` independent (M x K) @ (K x N) products.

    MACs = batch * M * N * K. `weight_kind` says what the K x N operand holds: model
    parameters (batch * K * N of them), the KV cache (attention over cached keys/values,
    stored in the KV format), or another activation (e.g. attention over fresh K/V).
    """

    kind: Literal["gemm"] = "gemm"
    m: PositiveInt
    n: PositiveInt
    k: PositiveInt
    batch: PositiveInt = 1
    weight_kind: Literal["parameter", "kv_cache", "activation"] = "parameter"

    def gemm_view(self) -> GemmView:
        return GemmView(m=self.m, n=self.n, k=self.k, instances=self.batch,
                        distinct_input_words=self.m * self.k)

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.n * self.k


@register_model
class Conv2d(_OpBase):
    """2-D convolution kept in conv dims; lowered by im2col to a GEMM view.

    out_h = floor((in_h + 2*pad_h - kernel_h) / stride_h) + 1 (likewise for w), or with
    `ceil_mode` ceil(...) + 1 — a last window overhanging the input, as PyTorch pooling's
    ceil_mode and SCALE-Sim's topologies (E = ceil((H - R + stride)/stride)) do;
    GEMM view per group: M = batch*out_h*out_w, N = out_channels/groups,
    K = kernel_h*kernel_w*in_channels/groups; MACs = groups * M * N * K.
    """

    kind: Literal["conv2d"] = "conv2d"
    batch: PositiveInt = 1
    in_h: PositiveInt
    in_w: PositiveInt
    in_channels: PositiveInt
    out_channels: PositiveInt
    kernel_h: PositiveInt
    kernel_w: PositiveInt
    stride_h: PositiveInt = 1
    stride_w: PositiveInt = 1
    pad_h: Annotated[int, Field(ge=0)] = 0
    pad_w: Annotated[int, Field(ge=0)] = 0
    groups: PositiveInt = 1
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "Conv2d":
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"groups={self.groups} must divide in_channels={self.in_channels} "
                             f"and out_channels={self.out_channels}")
        if self.out_h < 1 or self.out_w < 1:
            raise ValueError(f"kernel {self.kernel_h}x{self.kernel_w} is larger than the padded "
                             f"input {self.in_h + 2 * self.pad_h}x{self.in_w + 2 * self.pad_w}")
        return self

    @property
    def out_h(self) -> int:
        return _out_size(self.in_h + 2 * self.pad_h, self.kernel_h, self.stride_h, self.ceil_mode)

    @property
    def out_w(self) -> int:
        return _out_size(self.in_w + 2 * self.pad_w, self.kernel_w, self.stride_w, self.ceil_mode)

    def gemm_view(self) -> GemmView:
        channels = self.in_channels // self.groups
        return GemmView(
            m=self.batch * self.out_h * self.out_w,
            n=self.out_channels // self.groups,
            k=self.kernel_h * self.kernel_w * channels,
            instances=self.groups,
            distinct_input_words=self.batch * channels
            * _covered(self.in_h + 2 * self.pad_h, self.kernel_h, self.stride_h, self.out_h)
            * _covered(self.in_w + 2 * self.pad_w, self.kernel_w, self.stride_w, self.out_w),
        )

    @property
    def macs(self) -> int:
        return self.gemm_view().macs


def _out_size(size: int, kernel: int, stride: int, ceil_mode: bool) -> int:
    span = size - kernel
    return (-(-span // stride) if ceil_mode else span // stride) + 1


def _covered(size: int, kernel: int, stride: int, out: int) -> int:
    """Input rows (or columns) touched by `out` windows of `kernel` spaced by `stride`."""
    if stride >= kernel:
        return out * kernel
    return min(size, (out - 1) * stride + kernel)


VECTOR_OPERATIONS = ("add", "mul", "relu", "gelu", "silu", "softmax", "layernorm", "rmsnorm",
                     "reduce_sum", "reduce_max", "quantize", "dequantize", "tanh", "gather", "kv_write")


class Vector(_OpBase):
    """Element-wise or reduction op over `elements` elements of each of `inputs` tensors.

    `ops_per_element` counts the vector-unit operations per output element (e.g. softmax:
    max, subtract, exp, sum, divide = 5); `outputs` is the number of output elements
    (= elements for element-wise ops, fewer for reductions). `gather` reads table rows
    (embedding lookup: formats.weight and formats.activation are the table's format, the rows
    read are the op's input); `kv_write` stores new keys and values into the KV cache
    (formats.output is the KV format).
    """

    kind: Literal["vector"] = "vector"
    operation: Literal[VECTOR_OPERATIONS]  # type: ignore[valid-type]
    elements: PositiveInt
    inputs: PositiveInt = 1
    outputs: PositiveInt | None = None
    ops_per_element: PositiveInt = 1

    @property
    def output_elements(self) -> int:
        return self.outputs if self.outputs is not None else self.elements

    @property
    def macs(self) -> int:
        return 0


Op = Annotated[Union[Gemm, Conv2d, Vector], Field(discriminator="kind")]
