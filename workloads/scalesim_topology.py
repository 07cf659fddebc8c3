"""Import SCALE-Sim topology CSV files (conv and GEMM forms, recognized by their headers).

Conv form:  `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
Num Filter, Strides,` — one stride for both dims, no padding, and SCALE-Sim's output size
E = ceil((H - R + stride)/stride), i.e. a Conv2d with ceil_mode. A layer whose name contains `DP` is depthwise: SCALE-Sim
runs it as `Channels` single-channel layers of `Num Filter` filters each, which is a
Conv2d with groups = Channels, out_channels = Channels * Num Filter.
GEMM form:  `Layer, M, N, K,` — out[M,N] = in[M,K] @ w[K,N].
Rows end with a trailing comma as SCALE-Sim writes them (a row without one is accepted
too). An optional sparsity column `N:M` is accepted only as dense (`1:1`), since quarch
does not model structured sparsity yet. Operand words are one byte (int8) as in SCALE-Sim.
"""
from __future__ import annotations

import csv
from pathlib import Path

from pydantic import ValidationError

from workloads.errors import SpecError, from_validation_error
from workloads.ops import Conv2d, Gemm, OpFormats
from workloads.workload import Workload, WorkloadMetadata

CONV_HEADER = ("layer name", "ifmap height", "ifmap width", "filter height", "filter width",
               "channels", "num filter", "strides")
GEMM_HEADER = ("layer", "m", "n", "k")
SCALESIM_FORMATS = OpFormats()  # a topology states no formats: the design's defaults apply


def looks_like_topology(path: Path) -> bool:
    """True when the file's first line is a SCALE-Sim conv or GEMM header."""
    try:
        with path.open(newline="") as handle:
            header = _fields(next(csv.reader(handle), []))
    except (OSError, UnicodeDecodeError):
        return False
    return _kind(header) is not None


def load_topology(path: str | Path) -> Workload:
    """Read a SCALE-Sim topology CSV as a workload (one op per row, repeat 1)."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read topology file: {err}", file=path) from None
    if not rows:
        raise SpecError("empty file: expected a SCALE-Sim topology header", file=path)
    header = _fields(rows[0])
    kind = _kind(header)
    if kind is None:
        raise SpecError(f"header {','.join(header)!r} is not a SCALE-Sim topology header: expected "
                        f"'{', '.join(h.title() for h in CONV_HEADER)},' (conv) or "
                        "'Layer, M, N, K,' (GEMM)", file=path, field="line 1")
    ops = []
    for line_no, row in enumerate(rows[1:], start=2):
        fields = _fields(row)
        if not fields:
            continue
        ops.append(_conv_op(fields, path, line_no) if kind == "conv" else _gemm_op(fields, path, line_no))
    if not ops:
        raise SpecError("no layers: the file has a header but no rows", file=path)
    return Workload(metadata=WorkloadMetadata(model=path.stem, source=f"scalesim topology {path.name}"),
                    ops=tuple(ops))


def _fields(row: list[str]) -> list[str]:
    fields = [field.strip() for field in row]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def _kind(header: list[str]) -> str | None:
    lowered = tuple(field.lower() for field in header)
    if lowered[:len(CONV_HEADER)] == CONV_HEADER:
        return "conv"
    if lowered[:len(GEMM_HEADER)] == GEMM_HEADER:
        return "gemm"
    return None


def _integers(fields: list[str], names: tuple[str, ...], path: Path, line_no: int) -> list[int]:
    if len(fields) < len(names) + 1:
        raise SpecError(f"{len(fields)} fields, expected {len(names) + 1} "
                        f"(name, {', '.join(names)})", file=path, field=f"line {line_no}")
    values = []
    for name, text in zip(names, fields[1:]):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1 or str(value) != text.lstrip("+"):
            raise SpecError(f"{text!r}: {name} must be a positive integer",
                            file=path, field=f"line {line_no}, {name}")
        values.append(value)
    _check_sparsity(fields[len(names) + 1:], path, line_no)
    return values


def _check_sparsity(extra: list[str], path: Path, line_no: int) -> None:
    if not extra:
        return
    if len(extra) > 1 or extra[0].replace(" ", "") not in ("1:1", ""):
        raise SpecError(f"{','.join(extra)!r}: only dense layers ('1:1') are supported; quarch does "
                        "not model N:M sparsity", file=path, field=f"line {line_no}, sparsity")


def _conv_op(fields: list[str], path: Path, line_no: int) -> Conv2d:
    names = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
             "Num Filter", "Strides")
    ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride = _integers(fields, names, path, line_no)
    depthwise = "DP" in fields[0]
    try:
        return Conv2d(name=fields[0], in_h=ifmap_h, in_w=ifmap_w, kernel_h=filter_h, kernel_w=filter_w,
                      in_channels=channels, out_channels=channels * filters if depthwise else filters,
                      groups=channels if depthwise else 1, stride_h=stride, stride_w=stride,
                      ceil_mode=True, formats=SCALESIM_FORMATS)
    except ValidationError as err:
        raise from_validation_error(err, file=path, prefix=f"line {line_no}") from None


def _gemm_op(fields: list[str], path: Path, line_no: int) -> Gemm:
    m, n, k = _integers(fields, ("M", "N", "K"), path, line_no)
    return Gemm(name=fields[0], m=m, n=n, k=k, formats=SCALESIM_FORMATS)
