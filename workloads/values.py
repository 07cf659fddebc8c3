"""Value tensors attached to ops: real ones from files or seeded synthetic ones, as integer codes.

An op's `values` names a source per operand (`weight`, `input`):
    {file: w.npy}                      a .npy array, no pickles
    {file: acts.npz, key: conv1}       one array of a .npz archive
    {file: model.safetensors, key: layers.0.mlp.weight}
    {distribution: laplace, std: 1.0, outlier_fraction: 0.01, outlier_scale: 10, seed: 0, relu: true}
Shapes, in the op's GEMM orientation: weight (K, N) or (instances, K, N); input (M, K) or
(instances, M, K); a convolution's input may also be its feature map (batch, C, H, W), lowered
by im2col (K ordered C, R, S). Synthetic tensors are drawn in that shape from N(0, std^2) or
Laplace(0, std/sqrt 2) (same std), a seeded `outlier_fraction` of entries multiplied by
`outlier_scale`; `relu` clips negatives (post-ReLU activations).
Codes: integer arrays are taken as codes (checked against the format's range), float arrays whose
values the format already represents exactly are taken as they are; other float arrays are
quantized symmetrically to the operand's integer format with one absmax scale per quantization
group along K (the op's group_size, else per tensor): code = to_codes(x / (amax / qmax)).
Power-of-two (shift) formats have no integer code: their code is the number of non-zero
power-of-two terms of each element (0..k), from the same scaling and the format's greedy terms.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, model_validator

from workloads.errors import SpecError, register_model
from workloads.formats import parse_format


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@register_model
class TensorSource(_Frozen):
    """Where one operand's values come from: a file (and key), or a seeded distribution."""

    file: str | None = None
    key: str | None = None
    distribution: Literal["gaussian", "laplace"] | None = None
    std: PositiveFloat = 1.0
    outlier_fraction: float = Field(0.0, ge=0.0, le=1.0)
    outlier_scale: PositiveFloat = 10.0
    relu: bool = False
    seed: NonNegativeInt = 0

    @model_validator(mode="after")
    def _one_source(self) -> "TensorSource":
        if (self.file is None) == (self.distribution is None):
            raise ValueError("give exactly one of 'file' (with 'key' for .npz/.safetensors) or 'distribution'")
        return self


@register_model
class OpValues(_Frozen):
    """Value sources of an op's operands (either may be absent)."""

    weight: TensorSource | None = None
    input: TensorSource | None = None


_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                       "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_array(path: Path, key: str | None, where: str) -> np.ndarray:
    """An array from .npy / .npz / .safetensors (never unpickles); errors name file and key."""
    if not path.exists():
        raise SpecError("no such file", file=path, field=where)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                if key not in names:
                    raise SpecError(f"key {key!r} not in the archive: allowed are {', '.join(names)}",
                                    file=path, field=f"{where}.key")
                return archive[key]
        if suffix == ".safetensors":
            return _read_safetensors(path, key, where)
    except (ValueError, OSError) as err:
        if isinstance(err, SpecError):
            raise
        raise SpecError(f"cannot read array: {err}", file=path, field=where) from None
    raise SpecError(f"suffix {suffix!r} not allowed: use .npy, .npz or .safetensors", file=path, field=where)


def _read_safetensors(path: Path, key: str | None, where: str) -> np.ndarray:
    """safetensors layout: u64 little-endian header length, JSON header, raw little-endian data."""
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
        names = sorted(k for k in header if k != "__metadata__")
        if key not in names:
            raise SpecError(f"key {key!r} not in the file: allowed are {', '.join(names)}", file=path,
                            field=f"{where}.key")
        entry = header[key]
        if entry["dtype"] not in _SAFETENSORS_DTYPES:
            raise SpecError(f"dtype {entry['dtype']} not supported: allowed are {', '.join(_SAFETENSORS_DTYPES)}",
                            file=path, field=where)
        start, end = entry["data_offsets"]
        handle.seek(8 + size + start)
        data = np.frombuffer(handle.read(end - start), dtype=_SAFETENSORS_DTYPES[entry["dtype"]])
        return data.reshape(entry["shape"])


def synthesize(source: TensorSource, shape: tuple[int, ...]) -> np.ndarray:
    """Seeded draw of `shape` from the source's distribution (see module docstring)."""
    rng = np.random.default_rng(source.seed)
    if source.distribution == "gaussian":
        x = rng.normal(0.0, source.std, size=shape)
    else:
        x = rng.laplace(0.0, source.std / math.sqrt(2.0), size=shape)
    if source.outlier_fraction > 0:
        x = np.where(rng.random(shape) < source.outlier_fraction, x * source.outlier_scale, x)
    return np.maximum(x, 0.0) if source.relu else x


def to_codes(x: np.ndarray, fmt_name: str, group_size: int | None, where: str) -> np.ndarray:
    """Integer codes of `x` in an integer-like format, quantized along the last axis (see module docstring)."""
    fmt = parse_format(fmt_name)
    fmt = getattr(fmt, "element", None) or fmt
    if fmt.is_float:
        raise SpecError(f"values of format {fmt_name} have no integer codes: value-dependent timing needs an "
                        "integer, binary, ternary or power-of-two operand", field=where)
    lo, hi = int(fmt.min_value), int(fmt.max_value)
    if np.issubdtype(x.dtype, np.integer) and fmt.kind != "pow2":
        if x.size and (x.min() < lo or x.max() > hi):
            raise SpecError(f"integer values span {x.min()}..{x.max()}, outside {fmt.name}'s {lo}..{hi}", field=where)
        return x.astype(np.int32)
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise SpecError("values contain NaN or infinity", field=where)
    if np.array_equal(fmt.quantize(x), x):  # already in the format: no scaling
        codes = (fmt.terms(x)[0] != 0).sum(axis=-1) if fmt.kind == "pow2" else fmt.to_codes(x)
        return codes.astype(np.int32)
    qmax = hi if hi > 0 else -lo
    k = x.shape[-1]
    size = group_size or k
    groups = -(-k // size)
    padded = np.zeros(x.shape[:-1] + (groups * size,))
    padded[..., :k] = x
    blocks = padded.reshape(x.shape[:-1] + (groups, size))
    scale = np.abs(blocks).max(axis=-1, keepdims=True) / qmax
    scaled = np.divide(blocks, scale, out=np.zeros_like(blocks), where=scale > 0)
    if fmt.kind == "pow2":
        codes = (fmt.terms(scaled)[0] != 0).sum(axis=-1)
    else:
        codes = fmt.to_codes(scaled)
    return codes.reshape(padded.shape)[..., :k].astype(np.int32)


def operand_codes(op, operand: str, base: Path | None = None) -> np.ndarray | None:
    """Codes of one operand of `op` as (instances, rows, cols) in GEMM orientation, or None without values.

    input: (instances, M, K); weight: (instances, K, N). Quantization groups run along K.
    """
    source = getattr(op.values, operand, None) if op.values is not None else None
    if source is None:
        return None
    view = op.gemm_view()
    where = f"ops.{op.name}.values.{operand}"
    shape = (view.instances, view.m, view.k) if operand == "input" else (view.instances, view.k, view.n)
    if source.file is not None:
        path = Path(source.file) if base is None or Path(source.file).is_absolute() else base / source.file
        x = read_array(path, source.key, where)
        if operand == "input" and op.kind == "conv2d" and x.ndim == 4:
            x = im2col(op, x, where)
    else:
        x = synthesize(source, shape)
    if x.shape == shape[1:]:
        x = x[None]
    if x.shape != shape:
        allowed = f"{shape[1:]} or {shape}" + (" or (batch, C, H, W)" if op.kind == "conv2d" and operand == "input"
                                                else "")
        raise SpecError(f"values have shape {tuple(x.shape)}; op {op.name!r} needs {allowed}", field=where)
    fmt = op.formats.activation if operand == "input" else op.formats.weight
    if operand == "weight":  # quantization groups run along K: put K last, then back
        return np.ascontiguousarray(np.swapaxes(to_codes(np.swapaxes(x, 1, 2), fmt, op.formats.group_size, where),
                                                1, 2))
    return to_codes(x, fmt, None, where)


def im2col(op, x: np.ndarray, where: str) -> np.ndarray:
    """A (batch, C, H, W) feature map as the conv's (groups, M, K) GEMM input (K ordered C, R, S)."""
    expected = (op.batch, op.in_channels, op.in_h, op.in_w)
    if x.shape != expected:
        raise SpecError(f"feature map has shape {tuple(x.shape)}; op {op.name!r} needs {expected}", field=where)
    padded = np.pad(x, ((0, 0), (0, 0), (op.pad_h, op.pad_h), (op.pad_w, op.pad_w)))
    need_h = (op.out_h - 1) * op.stride_h + op.kernel_h
    need_w = (op.out_w - 1) * op.stride_w + op.kernel_w
    padded = np.pad(padded, ((0, 0), (0, 0), (0, max(0, need_h - padded.shape[2])),
                             (0, max(0, need_w - padded.shape[3]))))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (op.kernel_h, op.kernel_w), axis=(2, 3))
    windows = windows[:, :, ::op.stride_h, ::op.stride_w][:, :, :op.out_h, :op.out_w]  # (B, C, OH, OW, R, S)
    per_group = op.in_channels // op.groups
    cols = []
    for g in range(op.groups):
        part = windows[:, g * per_group:(g + 1) * per_group]
        cols.append(part.transpose(0, 2, 3, 1, 4, 5).reshape(op.batch * op.out_h * op.out_w, -1))
    return np.stack(cols)
