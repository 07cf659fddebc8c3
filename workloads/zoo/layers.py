"""Op constructors shared by the zoo's expansions, with the vector-op costs they assume.

Vector ops count these operations per element (the vector unit's work, see `Vector`):
softmax 5 (max, subtract, exp, sum, divide), layernorm 7 (mean, subtract, square, sum,
scale, weight, bias), rmsnorm 4 (square, sum, scale, weight), gelu 8 (tanh form:
cube, 2 mul-adds, tanh, add, 2 mul), silu 4 (negate, exp, add, divide), tanh 4, rotary
embedding 3 per rotated element (2 multiplies, 1 add), everything else 1.
Ops are built with default formats; the zoo applies a precision policy afterwards.
"""
from __future__ import annotations

from workloads.ops import Conv2d, Gemm, Vector
from workloads.repeats import range_name

OPS_PER_ELEMENT = {"softmax": 5, "layernorm": 7, "rmsnorm": 4, "gelu": 8, "silu": 4, "tanh": 4}
ROTARY_OPS_PER_ELEMENT = 3


def vector(name: str, operation: str, elements: int, *, inputs: int = 1, outputs: int | None = None,
           repeat: int = 1, ops_per_element: int | None = None) -> Vector:
    return Vector(name=name, operation=operation, elements=elements, inputs=inputs, outputs=outputs, repeat=repeat,
                  ops_per_element=ops_per_element or OPS_PER_ELEMENT.get(operation, 1))


def gemm(name: str, m: int, n: int, k: int, *, batch: int = 1, repeat: int = 1,
         weight_kind: str = "parameter") -> Gemm:
    return Gemm(name=name, m=m, n=n, k=k, batch=batch, repeat=repeat, weight_kind=weight_kind)


def conv(name: str, batch: int, size: int, cin: int, cout: int, kernel: int, stride: int = 1, *,
         groups: int = 1, pad: int | None = None) -> Conv2d:
    """Square convolution, padded to keep `size / stride` outputs unless `pad` is given."""
    pad = kernel // 2 if pad is None else pad
    return Conv2d(name=name, batch=batch, in_h=size, in_w=size, in_channels=cin, out_channels=cout,
                  kernel_h=kernel, kernel_w=kernel, stride_h=stride, stride_w=stride, pad_h=pad, pad_w=pad,
                  groups=groups)


class LayerStack:
    """Ops of one layer repeated `layers` times, named `<prefix>.<first>-<last>.<suffix>`."""

    def __init__(self, prefix: str, layers: int):
        self.template = prefix + ".{}."
        self.layers = layers
        self.ops: list = []

    def name(self, suffix: str) -> str:
        return range_name(self.template + suffix, 0, self.layers - 1)

    def vector(self, suffix: str, operation: str, elements: int, **kwargs) -> None:
        self.ops.append(vector(self.name(suffix), operation, elements, repeat=self.layers, **kwargs))

    def gemm(self, suffix: str, m: int, n: int, k: int, **kwargs) -> None:
        self.ops.append(gemm(self.name(suffix), m, n, k, repeat=self.layers, **kwargs))
