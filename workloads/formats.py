"""Number formats for quantized workloads.

This module names the element number formats quarch workloads are quantized to
(two's-complement INT/UINT, binary, ternary, FP minifloats, OCP-MX and NVFP4 block
formats, and sums of signed powers of two), records their storage cost, and gives
vectorized numpy quantizers that map float arrays onto values exactly representable in
each format, plus the integer codes, bit patterns, block scales or shift terms that
bit-level PE models need. Formats are frozen, hashable dataclasses obtained by name
through :func:`parse_format`; :func:`list_formats` enumerates the named ones.

Conventions shared by every ``quantize``:

* input is converted to float64; the output is a float64 array of the same shape whose
  finite entries are exactly representable in the format;
* rounding is round-to-nearest, ties-to-even (RNE) for INT and FP grids;
* out-of-range values, including +-inf, saturate to the largest finite magnitude, even
  for formats that have an infinity encoding (fp8_e5m2, fp16, bf16, fp32);
* NaN inputs come out as NaN (whether or not the format can encode NaN); the code/bit
  extractors (``to_codes``, ``to_bits``, ``terms``) raise ``ValueError`` on NaN where the
  format has no NaN encoding.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "KINDS",
    "FP_ENCODINGS",
    "FormatError",
    "NumberFormat",
    "IntFormat",
    "BinaryFormat",
    "TernaryFormat",
    "FloatFormat",
    "BlockFormat",
    "Pow2Format",
    "parse_format",
    "list_formats",
    "quantize_symmetric",
]

#: The values of :attr:`NumberFormat.kind`.
KINDS = ("int", "fp", "binary", "ternary", "block", "pow2")

_SQRT2 = math.sqrt(2.0)  # fl(sqrt 2) > sqrt 2 and no float64 lies between them


class FormatError(ValueError):
    """A number-format name or parameter set that does not describe a supported format."""


def _set(obj: object, **values: object) -> None:
    """Assign derived fields on a frozen dataclass instance (used in ``__post_init__``)."""
    for key, value in values.items():
        object.__setattr__(obj, key, value)


def _f64(x: object) -> np.ndarray:
    """Return ``x`` as a float64 ndarray (0-d for scalars)."""
    return np.asarray(x, dtype=np.float64)


def _check_int(value: object, lo: int, hi: int, what: str) -> int:
    """Validate that ``value`` is an int in ``[lo, hi]``; raise FormatError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise FormatError(f"{what} must be an integer in {lo}..{hi}, got {value!r}")
    return int(value)


def _no_nan(q: np.ndarray, fmt: "NumberFormat") -> None:
    """Raise ValueError if ``q`` holds NaN, which ``fmt`` cannot encode."""
    if np.isnan(q).any():
        raise ValueError(f"{fmt.name} has no NaN encoding; input contains NaN")


def _int_codes(fmt: "NumberFormat", x: np.ndarray) -> np.ndarray:
    """``fmt.quantize(x)`` as int64, for formats whose values are integers; NaN raises."""
    q = fmt.quantize(x)
    _no_nan(q, fmt)
    return q.astype(np.int64)


def _check_bits(bits: object, width: int) -> np.ndarray:
    """Return ``bits`` as int64, checking every pattern lies in ``[0, 2**width)``."""
    b = np.asarray(bits, dtype=np.int64)
    if b.size and (b.min() < 0 or b.max() >= (1 << width)):
        raise ValueError(f"bit patterns must lie in [0, 2**{width})")
    return b


# --------------------------------------------------------------------------- base


@dataclass(frozen=True, repr=False)
class NumberFormat:
    """Base of all formats: the fields every format carries.

    Attributes:
        name: canonical name; ``parse_format(fmt.name) == fmt``.
        kind: one of :data:`KINDS`.
        bits: storage bits of one element (excluding shared scales).
        bits_per_element: amortized storage bits per element including shared-scale
            bits, ``bits + scale_bits / block_size`` for block formats, else ``bits``.
        signed: whether negative values are representable.
        is_float: whether elements carry an exponent (FP and FP-element block formats).
        max_value: largest finite positive value. For two's-complement INT this is the
            positive end ``2**(b-1) - 1`` (``min_value`` is one step further out), which
            is 0 for ``int1``.
        min_value: most negative finite value (0 for unsigned formats).
        description: one-line human description for listings (not compared).

    Subclasses derive all of these from their own parameters; construct formats with
    :func:`parse_format` or the subclass constructors.
    """

    name: str = field(init=False)
    kind: str = field(init=False)
    bits: int = field(init=False)
    bits_per_element: float = field(init=False)
    signed: bool = field(init=False)
    is_float: bool = field(init=False)
    max_value: float = field(init=False)
    min_value: float = field(init=False)
    description: str = field(init=False, compare=False)

    def __repr__(self) -> str:
        return f"parse_format({self.name!r})"

    def __str__(self) -> str:
        return self.name

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Map ``x`` to the nearest representable values (float64, same shape)."""
        raise NotImplementedError

    def to_codes(self, x: np.ndarray) -> np.ndarray:
        """Integer codes of ``quantize(x)``; only integer-like formats have them."""
        raise TypeError(
            f"{self.name} ({self.kind}) has no integer codes; use to_bits (fp), "
            "decompose (block) or terms (pow2)"
        )


# --------------------------------------------------------------------------- INT


@dataclass(frozen=True, repr=False)
class IntFormat(NumberFormat):
    """Integer grid, ``int{b}`` (two's complement) or ``uint{b}``, b = 1..16.

    Signed range ``[-2**(b-1), 2**(b-1) - 1]`` (so ``int1`` is ``{-1, 0}``); unsigned
    range ``[0, 2**b - 1]``. ``quantize(x) = clip(rne(x), min_value, max_value)`` on the
    raw integer grid: scaling is the caller's concern (see :func:`quantize_symmetric`).
    """

    bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        b = _check_int(self.bits, 1, 16, "INT width")
        if not isinstance(self.signed, (bool, np.bool_)):
            raise FormatError(f"signed must be a bool, got {self.signed!r}")
        signed = bool(self.signed)
        lo, hi = (-(1 << (b - 1)), (1 << (b - 1)) - 1) if signed else (0, (1 << b) - 1)
        name = f"{'' if signed else 'u'}int{b}"
        kind_text = "two's-complement signed" if signed else "unsigned"
        _set(
            self, bits=b, signed=signed, name=name, kind="int", bits_per_element=float(b),
            is_float=False, max_value=float(hi), min_value=float(lo),
            description=f"{name.upper()}: {kind_text} integers [{lo}, {hi}]",
        )

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """``clip(rne(x), min_value, max_value)``; -0.0 is normalised to +0.0."""
        with np.errstate(invalid="ignore"):
            q = np.clip(np.rint(_f64(x)), self.min_value, self.max_value) + 0.0
        return _f64(q)

    def to_codes(self, x: np.ndarray) -> np.ndarray:
        """Integer values of ``quantize(x)`` as int64 (e.g. -3 for int4)."""
        return _int_codes(self, x)

    def to_bits(self, x: np.ndarray) -> np.ndarray:
        """Stored b-bit patterns (two's complement for signed), int64 in ``[0, 2**b)``."""
        return self.to_codes(x) & ((1 << self.bits) - 1)

    def decode(self, bits: np.ndarray) -> np.ndarray:
        """Values (float64) of b-bit storage patterns; inverse of :meth:`to_bits`."""
        b = _check_bits(bits, self.bits)
        if self.signed:
            b = np.where(b >= (1 << (self.bits - 1)), b - (1 << self.bits), b)
        return b.astype(np.float64)

    def representable_values(self) -> np.ndarray:
        """All representable values, sorted ascending (float64)."""
        return np.arange(self.min_value, self.max_value + 1.0, dtype=np.float64)


# --------------------------------------------------------------------------- binary / ternary


def _set_unit_range(fmt: NumberFormat, name: str, bits: int, description: str) -> None:
    """Set the derived fields of a parameterless signed format on ``[-1, +1]`` (binary,
    ternary): ``kind`` equals ``name``, ``bits`` stored bits per element, no exponent."""
    _set(
        fmt, name=name, kind=name, bits=bits, bits_per_element=float(bits), signed=True,
        is_float=False, max_value=1.0, min_value=-1.0, description=description,
    )


@dataclass(frozen=True, repr=False)
class BinaryFormat(NumberFormat):
    """Bipolar binary ``{-1, +1}``: ``quantize(x) = +1 if x >= 0 else -1`` (so 0 -> +1).

    One stored bit: pattern 1 means +1, pattern 0 means -1 (XNOR-popcount convention).
    """

    def __post_init__(self) -> None:
        _set_unit_range(
            self, "binary", 1,
            "binary: bipolar {-1, +1}, sign(x) with 0 -> +1; bit 1 = +1, bit 0 = -1",
        )

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """``where(x >= 0, +1, -1)``; NaN stays NaN."""
        x = _f64(x)
        return _f64(np.where(np.isnan(x), np.nan, np.where(x >= 0, 1.0, -1.0)))

    def to_codes(self, x: np.ndarray) -> np.ndarray:
        """Values of ``quantize(x)`` as int64 (-1 or +1)."""
        return _int_codes(self, x)

    def to_bits(self, x: np.ndarray) -> np.ndarray:
        """Stored bit: 1 for +1, 0 for -1 (int64)."""
        return (self.to_codes(x) > 0).astype(np.int64)

    def decode(self, bits: np.ndarray) -> np.ndarray:
        """Values ``2 * bit - 1`` of stored bits (float64)."""
        return (2 * _check_bits(bits, 1) - 1).astype(np.float64)

    def representable_values(self) -> np.ndarray:
        """``[-1.0, 1.0]``."""
        return np.array([-1.0, 1.0])


@dataclass(frozen=True, repr=False)
class TernaryFormat(NumberFormat):
    """Ternary ``{-1, 0, +1}`` with threshold 0.5: ``|x| > 0.5 -> sign(x)``, else 0.

    This equals ``clip(rne(x), -1, 1)`` (the tie ``|x| == 0.5`` goes to 0, the even
    neighbour). Two stored bits, two's complement: +1 = 0b01, 0 = 0b00, -1 = 0b11
    (0b10 is unused).
    """

    def __post_init__(self) -> None:
        _set_unit_range(
            self, "ternary", 2,
            "ternary: {-1, 0, +1}, |x| > 0.5 -> sign(x) else 0; 2-bit two's complement",
        )

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """``clip(rne(x), -1, 1)``, i.e. threshold 0.5 with ties to 0; NaN stays NaN."""
        with np.errstate(invalid="ignore"):
            return _f64(np.clip(np.rint(_f64(x)), -1.0, 1.0) + 0.0)

    def to_codes(self, x: np.ndarray) -> np.ndarray:
        """Values of ``quantize(x)`` as int64 (-1, 0 or +1)."""
        return _int_codes(self, x)

    def to_bits(self, x: np.ndarray) -> np.ndarray:
        """Stored 2-bit two's-complement patterns (0, 1 or 3), int64."""
        return self.to_codes(x) & 3

    def decode(self, bits: np.ndarray) -> np.ndarray:
        """Values of 2-bit patterns; the unused pattern 0b10 raises ValueError."""
        b = _check_bits(bits, 2)
        if (b == 2).any():
            raise ValueError("ternary bit pattern 0b10 is not a valid encoding")
        return np.where(b == 3, -1, b).astype(np.float64)

    def representable_values(self) -> np.ndarray:
        """``[-1.0, 0.0, 1.0]``."""
        return np.array([-1.0, 0.0, 1.0])


# --------------------------------------------------------------------------- FP

#: Encodings of reserved bit patterns for :class:`FloatFormat`.
FP_ENCODINGS = ("ieee", "fn", "finite")

_NAMED_FP = {
    (2, 1, "finite"): "fp4_e2m1",
    (2, 3, "finite"): "fp6_e2m3",
    (3, 2, "finite"): "fp6_e3m2",
    (4, 3, "fn"): "fp8_e4m3",
    (5, 2, "ieee"): "fp8_e5m2",
    (5, 10, "ieee"): "fp16",
    (8, 7, "ieee"): "bf16",
    (8, 23, "ieee"): "fp32",
}
_NAMED_FP_NOTE = {
    "fp4_e2m1": "OCP MX FP4 E2M1, values +-{0,0.5,1,1.5,2,3,4,6}",
    "fp6_e2m3": "OCP MX FP6 E2M3",
    "fp6_e3m2": "OCP MX FP6 E3M2",
    "fp8_e4m3": "OCP FP8 E4M3FN",
    "fp8_e5m2": "OCP FP8 E5M2",
    "fp16": "IEEE 754 binary16",
    "bf16": "bfloat16",
    "fp32": "IEEE 754 binary32",
}
_ENCODING_TEXT = {
    "ieee": "top exponent reserved for inf/NaN",
    "fn": "no inf, only S.1..1.1..1 reserved (NaN)",
    "finite": "no inf/NaN, every pattern finite",
}


def _default_encoding(e: int, m: int) -> str:
    """Encoding used when a name gives no suffix: the named format's, else
    ``finite`` for E == 1, M == 0 or total width <= 8 bits, else ``ieee``."""
    for (ne, nm, enc) in _NAMED_FP:
        if (ne, nm) == (e, m):
            return enc
    return "finite" if e == 1 or m == 0 or 1 + e + m <= 8 else "ieee"


@dataclass(frozen=True, repr=False)
class FloatFormat(NumberFormat):
    """Sign-exponent-mantissa minifloat with E exponent and M mantissa bits.

    ``bias = 2**(E-1) - 1``; a pattern with exponent field ``e`` and mantissa field
    ``m`` has value ``(-1)**s * 2**(1-bias) * m/2**M`` if ``e == 0`` (subnormal), else
    ``(-1)**s * 2**(e-bias) * (1 + m/2**M)``. ``emin = 1 - bias``. Reserved patterns
    depend on ``encoding``:

    * ``"ieee"``: exponent field all ones is inf (m == 0) / NaN (m != 0);
      ``emax = 2**E - 2 - bias``, ``max = 2**emax * (2 - 2**-M)`` (fp8_e5m2: 57344).
    * ``"fn"`` (OCP E4M3FN style): no inf, only ``S.1..1.1..1`` is NaN;
      ``emax = 2**E - 1 - bias``, ``max = 2**emax * (2 - 2**(1-M))`` (fp8_e4m3: 448).
    * ``"finite"`` (OCP MX FP6/FP4): nothing reserved, no inf/NaN;
      ``emax = 2**E - 1 - bias``, ``max = 2**emax * (2 - 2**-M)`` (fp4_e2m1: 6).

    ``quantize`` rounds ``|x|`` to ``M`` fractional bits at its own binade (binade
    exponent clamped below at ``emin`` for subnormals) with RNE via frexp/ldexp,
    saturates to ``max_value`` (also for +-inf input, even where inf is encodable) and
    restores the sign (signed zero kept). E in 1..8, M in 0..23 (M >= 1 for ieee/fn,
    E >= 2 for ieee). ``encoding=None`` picks the default (see ``_default_encoding``).
    """

    exp_bits: int
    man_bits: int
    encoding: str | None = None

    def __post_init__(self) -> None:
        e = _check_int(self.exp_bits, 1, 8, "exponent bits E")
        m = _check_int(self.man_bits, 0, 23, "mantissa bits M")
        enc = _default_encoding(e, m) if self.encoding is None else self.encoding
        if enc not in FP_ENCODINGS:
            raise FormatError(f"FP encoding must be one of {', '.join(FP_ENCODINGS)}, got {enc!r}")
        if enc in ("ieee", "fn") and m < 1:
            raise FormatError(f"{enc} encoding needs M >= 1")
        if enc == "ieee" and e < 2:
            raise FormatError("ieee encoding needs E >= 2")
        bias = (1 << (e - 1)) - 1
        emax = (1 << e) - (2 if enc == "ieee" else 1) - bias
        top = 2.0 - 2.0 ** (1 - m) if enc == "fn" else 2.0 - 2.0**-m
        max_value = math.ldexp(top, emax)
        if (e, m, enc) in _NAMED_FP:
            name = _NAMED_FP[(e, m, enc)]
        elif enc == _default_encoding(e, m):
            name = f"fp_e{e}m{m}"
        else:
            name = f"fp_e{e}m{m}_{enc}"
        note = _NAMED_FP_NOTE.get(name, f"FP{1 + e + m} E{e}M{m}")
        desc = (
            f"{note}: bias {bias}, max {max_value:g}, min normal 2^{1 - bias}, "
            f"min subnormal 2^{1 - bias - m}, {_ENCODING_TEXT[enc]}"
        )
        _set(
            self, exp_bits=e, man_bits=m, encoding=enc, name=name, kind="fp", bits=1 + e + m,
            bits_per_element=float(1 + e + m), signed=True, is_float=True,
            max_value=max_value, min_value=-max_value, description=desc,
        )

    @property
    def bias(self) -> int:
        """Exponent bias ``2**(E-1) - 1``."""
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal, ``1 - bias``."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest finite binade, ``floor(log2(max_value))``."""
        return (1 << self.exp_bits) - (2 if self.encoding == "ieee" else 1) - self.bias

    @property
    def min_normal(self) -> float:
        """Smallest positive normal ``2**emin``."""
        return math.ldexp(1.0, self.emin)

    @property
    def min_subnormal(self) -> float:
        """Smallest positive value ``2**(emin - M)``."""
        return math.ldexp(1.0, self.emin - self.man_bits)

    @property
    def has_inf(self) -> bool:
        """Whether an infinity encoding exists (``quantize`` still saturates)."""
        return self.encoding == "ieee"

    @property
    def has_nan(self) -> bool:
        """Whether a NaN encoding exists."""
        return self.encoding != "finite"

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """``sign(x) * min(rne(|x| / u) * u, max_value)`` with
        ``u = 2**(max(floor(log2|x|), emin) - M)``; NaN stays NaN."""
        x = _f64(x)
        a = np.abs(x)
        _, e = np.frexp(a)  # a = f * 2**e, f in [0.5, 1): floor(log2 a) = e - 1
        ulp = np.ldexp(1.0, np.maximum(e.astype(np.int64) - 1, self.emin) - self.man_bits)
        with np.errstate(over="ignore", invalid="ignore"):
            q = np.minimum(np.rint(a / ulp) * ulp, self.max_value)
        return _f64(np.copysign(q, x))

    def to_bits(self, x: np.ndarray) -> np.ndarray:
        """Bit patterns ``s<<(E+M) | e<<M | m`` of ``quantize(x)`` (int64).

        Negative zero keeps its sign bit. NaN maps to the quiet NaN ``0.1..1.10..0``
        (ieee) or ``0.1..1.1..1`` (fn); formats without NaN raise ValueError.
        """
        q = self.quantize(x)
        nan = np.isnan(q)
        if not self.has_nan:
            _no_nan(q, self)
        e_, m_ = self.exp_bits, self.man_bits
        a = np.where(nan, 0.0, np.abs(q))
        _, e = np.frexp(a)
        exp = np.maximum(e.astype(np.int64) - 1, self.emin)
        sub = a < self.min_normal
        exp_field = np.where(sub, 0, exp + self.bias)
        frac = np.rint(a / np.ldexp(1.0, exp - m_)).astype(np.int64)  # exact integer
        man = np.where(sub, frac, frac - (1 << m_))
        code = (np.signbit(q).astype(np.int64) << (e_ + m_)) | (exp_field << m_) | man
        if nan.any():
            top = ((1 << e_) - 1) << m_
            nan_code = top | (1 << (m_ - 1)) if self.encoding == "ieee" else top | ((1 << m_) - 1)
            code = np.where(nan, nan_code, code)
        return code

    def decode(self, bits: np.ndarray) -> np.ndarray:
        """Values (float64) of bit patterns, by the formula in the class docstring;
        reserved patterns give +-inf / NaN."""
        e_, m_ = self.exp_bits, self.man_bits
        b = _check_bits(bits, 1 + e_ + m_)
        sign = (b >> (e_ + m_)) & 1
        ef = (b >> m_) & ((1 << e_) - 1)
        mf = b & ((1 << m_) - 1)
        mag = np.where(
            ef == 0,
            np.ldexp(mf.astype(np.float64), self.emin - m_),
            np.ldexp((mf + (1 << m_)).astype(np.float64), ef - self.bias - m_),
        )
        top = ef == (1 << e_) - 1
        if self.encoding == "ieee":
            mag = np.where(top, np.where(mf == 0, np.inf, np.nan), mag)
        elif self.encoding == "fn":
            mag = np.where(top & (mf == (1 << m_) - 1), np.nan, mag)
        return _f64(np.where(sign == 1, -mag, mag))

    def representable_values(self) -> np.ndarray:
        """Sorted unique finite values of all bit patterns (formats of <= 16 bits)."""
        if self.bits > 16:
            raise ValueError(f"{self.name} has too many patterns to enumerate")
        v = self.decode(np.arange(1 << self.bits))
        return np.unique(v[np.isfinite(v)] + 0.0)


# --------------------------------------------------------------------------- block

_E8M0_EMIN, _E8M0_EMAX = -127, 127  # E8M0 exponents; pattern 0xFF is NaN
_MX_FP_ELEMENTS = {"fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1"}
_BLOCK_SHORT = {"fp4_e2m1": "fp4"}  # element name used inside block names
_BLOCK_DEFAULT_SIZE = {"e8m0": 32, "e4m3": 16}


def _groups(x: np.ndarray, size: int) -> np.ndarray:
    """View the last axis of ``x`` (>= 1-d) as ``(..., ceil(n/size), size)``, zero-padded."""
    n = x.shape[-1]
    nb = -(-n // size)
    pad = nb * size - n
    if pad:
        x = np.concatenate([x, np.zeros(x.shape[:-1] + (pad,))], axis=-1)
    return x.reshape(x.shape[:-1] + (nb, size))


def _ungroup(y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_groups` for an original (>= 1-d) ``shape``."""
    return y.reshape(y.shape[:-2] + (-1,))[..., : shape[-1]].reshape(shape)


def _finite_absmax(g: np.ndarray) -> np.ndarray:
    """Max of ``|g|`` over the last axis, ignoring NaN and +-inf (0 for empty/all-nonfinite)."""
    return np.max(np.where(np.isfinite(g), np.abs(g), 0.0), axis=-1, initial=0.0)


@dataclass(frozen=True, repr=False)
class BlockFormat(NumberFormat):
    """Block format: ``block_size`` contiguous elements (last axis) share one scale.

    ``element`` is signed INT (2..8 bits, MXINT) or an OCP FP element (fp8_e4m3,
    fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1); ``scale`` is ``"e8m0"`` (OCP MX: a power of
    two ``2**k``, k in -127..127) or ``"e4m3"`` (NVFP4: an fp8_e4m3 value; fp4 elements
    only). Storage ``bits_per_element = element.bits + 8 / block_size``.

    Scale rule per block with ``amax`` = max |x| over its finite entries:

    * MX (OCP Microscaling Formats Specification v1.0, section 6.3):
      ``X = 2**(floor(log2(amax)) - emax_elem)``, ``emax_elem`` being the exponent of the
      element format's largest normal (fp4 2, fp6_e2m3 2, fp6_e3m2 4, fp8_e4m3 8,
      fp8_e5m2 15; MXINT 0, its elements being fixed point ``1.(b-2)``). The exponent is
      clamped to the E8M0 range -127..127 (and -127 is used for an all-zero block).
      Elements ``quantize_elem(x / X)`` saturate (the spec clamps to max normal), so for
      FP4 magnitudes in ``(6, 8) * X`` become ``6 * X``.
    * NVFP4: ``s = fp8_e4m3.quantize(amax / 6)`` (RNE, saturating at 448); elements
      ``fp4(x / s)``; a block whose scale underflows to 0 quantizes to 0. NVIDIA's
      recipe also applies a per-tensor FP32 scale; that is left to the caller (pre-scale
      ``x`` by ``amax_tensor / (6 * 448)``). With a subnormal e4m3 scale (block
      amax < 6 * 2**-6) re-quantizing may change values (quantize is not idempotent
      there); with a normal scale it is.

    Partial trailing blocks are blocks of their own; 0-d input is one block. NaN
    elements give NaN outputs without affecting the block scale; +-inf saturate.
    """

    element: NumberFormat
    block_size: int | None = None
    scale: str = "e8m0"

    def __post_init__(self) -> None:
        el, scale = self.element, self.scale
        if scale not in _BLOCK_DEFAULT_SIZE:
            raise FormatError(f"block scale must be 'e8m0' or 'e4m3', got {scale!r}")
        size = _BLOCK_DEFAULT_SIZE[scale] if self.block_size is None else self.block_size
        size = _check_int(size, 1, 4096, "block size")
        if isinstance(el, IntFormat) and el.signed and 2 <= el.bits <= 8 and scale == "e8m0":
            elem_part = el.name
        elif isinstance(el, FloatFormat) and el.name in _MX_FP_ELEMENTS and (
            scale == "e8m0" or el.name == "fp4_e2m1"
        ):
            elem_part = _BLOCK_SHORT.get(el.name, el.name)
        else:
            raise FormatError(
                f"unsupported block element {getattr(el, 'name', el)!r} for {scale} scale "
                "(MX: int2..int8, fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4; NV: fp4)"
            )
        prefix = "mx" if scale == "e8m0" else "nv"
        name = prefix + elem_part + ("" if size == _BLOCK_DEFAULT_SIZE[scale] else f"_b{size}")
        if scale == "e8m0":
            max_scale = math.ldexp(1.0, _E8M0_EMAX - self._frac_bits(el))
            scale_text = "E8M0 power-of-two scale"
        else:
            max_scale = _FP8_E4M3.max_value
            scale_text = "FP8 E4M3 scale"
        max_value = el.max_value * max_scale
        bpe = el.bits + 8.0 / size
        _set(
            self, block_size=size, name=name, kind="block", bits=el.bits, bits_per_element=bpe,
            signed=True, is_float=el.is_float, max_value=max_value, min_value=-max_value,
            description=f"{name.upper()}: {el.name} elements, {scale_text} per {size} "
            f"({bpe:g} bits/element)",
        )

    @staticmethod
    def _frac_bits(el: NumberFormat) -> int:
        """Fraction bits of MXINT elements (fixed point ``1.(b-2)``), 0 for FP elements."""
        return el.bits - 2 if isinstance(el, IntFormat) else 0

    def decompose(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split ``quantize(x)`` into ``(elements, scales)``.

        ``elements`` has ``x``'s shape and holds element-format values (integer codes
        for MXINT, so ``self.element.to_codes/to_bits`` apply); ``scales`` has shape
        ``x.shape[:-1] + (n_blocks,)`` (``(1,)`` for 0-d ``x``). Then
        ``quantize(x) == elements * repeat(scales, block_size, -1)[..., :n]``. For MX the
        E8M0 exponent is ``log2(scale) + frac_bits`` (``frac_bits = b - 2`` for MXINT,
        else 0), i.e. MXINT scales absorb the element fixed-point factor.
        """
        x = _f64(x)
        shape = x.shape if x.ndim else (1,)
        g = _groups(x.reshape(shape), self.block_size)
        amax = _finite_absmax(g)
        el = self.element
        if self.scale == "e8m0":
            emax_elem = el.emax if isinstance(el, FloatFormat) else 0
            _, e = np.frexp(amax)
            k = np.where(amax > 0, e.astype(np.int64) - 1 - emax_elem, _E8M0_EMIN)
            k = np.clip(k, _E8M0_EMIN, _E8M0_EMAX)
            scales = np.ldexp(1.0, k - self._frac_bits(el))
        else:
            scales = _FP8_E4M3.quantize(amax / el.max_value)
        s = scales[..., None]
        ok = s > 0
        with np.errstate(invalid="ignore"):
            t = np.where(ok, g / np.where(ok, s, 1.0), np.where(np.isnan(g), np.nan, 0.0))
        elems = _ungroup(el.quantize(t), shape)
        return elems.reshape(x.shape), scales

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Per block: shared scale by the rule in the class docstring, elements
        ``quantize_elem(x / scale)`` (saturating), result ``elements * scale``."""
        x = _f64(x)
        elems, scales = self.decompose(x)
        shape = x.shape if x.ndim else (1,)
        g = _groups(elems.reshape(shape), self.block_size) * scales[..., None]
        return _ungroup(g, shape).reshape(x.shape)


# --------------------------------------------------------------------------- pow2

_POW2_DEFAULT_RANGE_BITS = 4


@dataclass(frozen=True, repr=False)
class Pow2Format(NumberFormat):
    """Sum of ``k`` signed power-of-two terms: ``v = sum_j s_j * 2**e_j``, ``s_j`` in
    {-1, 0, +1} (DeepShift/DenseShift-like for k = 1, ShiftAddLLM-like for k > 1).

    Each term stores 1 sign bit and a ``range_bits`` = R bit exponent field, so
    ``bits = k * (1 + R)``. Field code 0 encodes a zero term (so the greedy
    decomposition can stop); the other ``2**R - 1`` codes are exponents
    ``e in [emin, emax] = [-(2**(R-1) - 1), 2**(R-1) - 1]`` (default R = 4: -7..7).
    Exponents may repeat; ``max_value = k * 2**emax``.

    ``quantize`` is greedy on the residual ``r`` (starting at ``clip(x, +-max_value)``):
    each term is ``sign(r) * 2**clip(round(log2|r|), emin, emax)``, the nearest power of
    two in the log domain, or 0 when ``|r| <= 2**(emin-1)`` (a nonzero term would not
    reduce the error). Rounding in the log domain is exact: ``e = floor(log2|r|) + 1``
    iff ``|r| / 2**floor(log2|r|) >= fl(sqrt 2)``, and no float64 lies on a log-domain
    midpoint, so there are no ties. Example: k = 1 maps 3.0 to 4.0 (log2 3 = 1.58 is
    nearer 2 than 1, although 3 is a linear-domain tie); k = 2 gives 4 - 1 = 3 exactly.
    k in 1..8, R in 1..5 (so every sum is exact in float64).
    """

    k: int
    range_bits: int = _POW2_DEFAULT_RANGE_BITS

    def __post_init__(self) -> None:
        k = _check_int(self.k, 1, 8, "pow2 term count k")
        r = _check_int(self.range_bits, 1, 5, "pow2 exponent bits")
        emax = (1 << (r - 1)) - 1
        name = f"pow2_k{k}" + ("" if r == _POW2_DEFAULT_RANGE_BITS else f"_e{r}")
        max_value = k * math.ldexp(1.0, emax)
        _set(
            self, k=k, range_bits=r, name=name, kind="pow2", bits=k * (1 + r),
            bits_per_element=float(k * (1 + r)), signed=True, is_float=False,
            max_value=max_value, min_value=-max_value,
            description=f"{name}: sum of {k} signed power-of-two term(s) 2^e, e in "
            f"[{-emax}, {emax}] or 0, {1 + r} bits/term, greedy log-domain residual",
        )

    @property
    def emin(self) -> int:
        """Smallest term exponent ``-(2**(R-1) - 1)``."""
        return -self.emax

    @property
    def emax(self) -> int:
        """Largest term exponent ``2**(R-1) - 1``."""
        return (1 << (self.range_bits - 1)) - 1

    def _greedy(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Greedy decomposition of finite-or-inf ``x`` (NaN treated as 0):
        returns (value, signs[..., k], exponents[..., k])."""
        r = np.clip(np.where(np.isnan(x), 0.0, x), self.min_value, self.max_value)
        value = np.zeros_like(r)
        signs = np.zeros(r.shape + (self.k,), dtype=np.int8)
        exps = np.zeros(r.shape + (self.k,), dtype=np.int16)
        zero_below = math.ldexp(1.0, self.emin - 1)
        for j in range(self.k):  # loop over terms, vectorized over elements
            a = np.abs(r)
            f, e = np.frexp(a)  # a = f * 2**e, f in [0.5, 1)
            ej = np.clip(e.astype(np.int64) - 1 + (2.0 * f >= _SQRT2), self.emin, self.emax)
            nz = a > zero_below
            t = np.where(nz, np.copysign(np.ldexp(1.0, ej), r), 0.0)
            signs[..., j] = np.sign(t).astype(np.int8)
            exps[..., j] = np.where(nz, ej, 0)
            r = r - t  # exact (Sterbenz) for unsaturated terms
            value = value + t
        return value, signs, exps

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Reconstructed value ``sum_j s_j * 2**e_j`` of the greedy terms; NaN stays NaN."""
        x = _f64(x)
        value = self._greedy(x)[0]
        return _f64(np.where(np.isnan(x), np.nan, value + 0.0))

    def terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Greedy shift terms of ``x``: ``(signs, exponents)``, each of shape
        ``x.shape + (k,)``, signs int8 in {-1, 0, +1} (0 = unused term, whose exponent
        is reported as 0), exponents int16; ``quantize(x) == sum(signs * 2.0**exponents,
        -1)``. Terms come in greedy order (non-increasing exponent). NaN raises."""
        x = _f64(x)
        if np.isnan(x).any():
            raise ValueError(f"{self.name} has no NaN encoding; input contains NaN")
        _, signs, exps = self._greedy(x)
        return signs, exps


# --------------------------------------------------------------------------- helpers

_FP8_E4M3 = FloatFormat(4, 3, "fn")


def quantize_symmetric(
    x: np.ndarray, fmt: NumberFormat | str, group_size: int | None = None
) -> np.ndarray:
    """Absmax-scaled quantize-dequantize along the last axis; returns float64.

    For each group of ``group_size`` contiguous elements of the last axis (a partial
    trailing group is its own group; ``None`` = one group for the whole tensor):
    ``s = amax / qmax`` with ``amax`` = max |x| over the group's finite entries and
    ``qmax = fmt.max_value`` (``-fmt.min_value`` for ``int1``, whose max_value is 0);
    the result is ``fmt.quantize(x / s) * s`` (0 where ``s == 0``). Scales stay
    float64 (quantizing them is the caller's concern). Unsigned formats clip negatives
    to 0; signed INT uses the symmetric range ``[-qmax, qmax]`` plus ``min_value``.
    Block formats carry their own scales: ``fmt.quantize(x)`` is returned, and
    ``group_size`` must be None or ``fmt.block_size``.
    """
    fmt = parse_format(fmt) if isinstance(fmt, str) else fmt
    x = _f64(x)
    if isinstance(fmt, BlockFormat):
        if group_size not in (None, fmt.block_size):
            raise FormatError(
                f"{fmt.name} uses its own block size {fmt.block_size}; got group_size={group_size}"
            )
        return fmt.quantize(x)
    qmax = fmt.max_value if fmt.max_value > 0 else -fmt.min_value
    if x.size == 0:
        return x.copy()
    if group_size is None:
        shape, size = (x.size,), x.size
    else:
        size = _check_int(group_size, 1, 1 << 40, "group_size")
        shape = x.shape if x.ndim else (1,)
    g = _groups(x.reshape(shape), size)
    s = (_finite_absmax(g) / qmax)[..., None]
    ok = s > 0
    safe = np.where(ok, s, 1.0)
    with np.errstate(invalid="ignore"):
        q = np.where(ok, fmt.quantize(g / safe) * safe, np.where(np.isnan(g), np.nan, 0.0))
    return _ungroup(q, shape).reshape(x.shape)


# --------------------------------------------------------------------------- parsing

_ALLOWED = (
    "int1..int16, uint1..uint16, binary, ternary, fp4 (=fp4_e2m1), fp6_e2m3, fp6_e3m2, "
    "fp8_e4m3, fp8_e5m2, fp16, bf16, fp32, fp_e<E>m<M>[_ieee|_fn|_finite] (E 1..8, "
    "M 0..23), mxint8 (also mxint2..mxint7), mxfp8[_e4m3|_e5m2], mxfp6[_e2m3|_e3m2], mxfp4, "
    "nvfp4 (block names take an optional _b<N> block size), pow2_k<K>[_e<R>] (K 1..8, R 1..5)"
)

_FP_ALIASES = {
    "fp4": "fp4_e2m1", "float4_e2m1fn": "fp4_e2m1", "fp4_e2m1fn": "fp4_e2m1",
    "e2m1fn": "fp4_e2m1", "float6_e2m3fn": "fp6_e2m3", "fp6_e2m3fn": "fp6_e2m3",
    "e2m3fn": "fp6_e2m3", "float6_e3m2fn": "fp6_e3m2", "fp6_e3m2fn": "fp6_e3m2",
    "e3m2fn": "fp6_e3m2", "float8_e4m3fn": "fp8_e4m3", "fp8_e4m3fn": "fp8_e4m3",
    "e4m3fn": "fp8_e4m3", "float8_e5m2": "fp8_e5m2", "float16": "fp16", "half": "fp16",
    "bfloat16": "bf16", "float32": "fp32", "single": "fp32",
}
_NAMED_BY_NAME = {v: k for k, v in _NAMED_FP.items()}
_BLOCK_ELEMENT_ALIASES = {
    "fp8": "fp8_e4m3", "fp6": "fp6_e2m3", "fp4": "fp4_e2m1", "fp4_e2m1": "fp4_e2m1",
    "fp8_e4m3": "fp8_e4m3", "fp8_e5m2": "fp8_e5m2", "fp6_e2m3": "fp6_e2m3",
    "fp6_e3m2": "fp6_e3m2",
}

_RE_INT = re.compile(r"(u?)int(\d+)")
_RE_FP = re.compile(r"(?:(?:fp|float)(\d+)?_?)?e(\d+)m(\d+)(?:_(ieee|fn|finite))?")
_RE_BLOCK = re.compile(r"(mx|nv)(int\d+|fp\d(?:_e\dm\d)?)(?:_b(\d+))?")
_RE_POW2 = re.compile(r"pow2_k(\d+)(?:_e(\d+))?")


def _parse(s: str) -> NumberFormat:
    """Build the format for a normalised name; raise FormatError (with a reason) or
    LookupError (unknown name)."""
    if s == "binary" or s == "bipolar":
        return BinaryFormat()
    if s == "ternary":
        return TernaryFormat()
    s = _FP_ALIASES.get(s, s)
    if s in _NAMED_BY_NAME:
        return FloatFormat(*_NAMED_BY_NAME[s])
    if m := _RE_INT.fullmatch(s):
        return IntFormat(int(m[2]), signed=not m[1])
    if m := _RE_FP.fullmatch(s):
        e, mb = int(m[2]), int(m[3])
        if m[1] is not None and int(m[1]) != 1 + e + mb:
            raise FormatError(f"width {m[1]} != 1+E+M = {1 + e + mb}")
        return FloatFormat(e, mb, m[4])
    if m := _RE_BLOCK.fullmatch(s):
        scale = "e8m0" if m[1] == "mx" else "e4m3"
        el_name = m[2] if m[2].startswith("int") else _BLOCK_ELEMENT_ALIASES.get(m[2])
        if el_name is None:
            raise LookupError(s)
        size = int(m[3]) if m[3] else None
        return BlockFormat(_parse(el_name), size, scale)
    if m := _RE_POW2.fullmatch(s):
        return Pow2Format(int(m[1]), int(m[2]) if m[2] else _POW2_DEFAULT_RANGE_BITS)
    raise LookupError(s)


@functools.lru_cache(maxsize=None)
def parse_format(name: str | NumberFormat) -> NumberFormat:
    """Return the format called ``name`` (cached; a NumberFormat is returned as is).

    Matching is case-insensitive; ``-`` and spaces count as ``_`` and a separator after
    ``mx``/``nv`` is ignored ("FP8-E4M3", "MX-FP4", "e2m1", "float8_e4m3fn" all work).
    Raises FormatError naming the bad value and listing the allowed names/patterns.
    """
    if isinstance(name, NumberFormat):
        return name
    if not isinstance(name, str):
        raise FormatError(f"number format name must be a string, got {name!r}: allowed are {_ALLOWED}")
    s = re.sub(r"[\s\-_]+", "_", name.strip().lower())
    s = re.sub(r"^(mx|nv)_", r"\1", s)
    try:
        return _parse(s)
    except LookupError:
        reason = ""
    except FormatError as exc:
        reason = f" ({exc})"
    raise FormatError(f"unknown number format {name!r}{reason}: allowed are {_ALLOWED}")


_LISTED = (
    "int2", "int4", "int8", "uint4", "uint8", "int16", "binary", "ternary",
    "fp4_e2m1", "fp6_e2m3", "fp6_e3m2", "fp8_e4m3", "fp8_e5m2", "fp16", "bf16", "fp32",
    "fp_e3m4", "mxint8", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4",
    "nvfp4", "pow2_k1", "pow2_k2", "pow2_k3_e3",
)


def list_formats() -> list[NumberFormat]:
    """Formats for a CLI listing: representatives of the parametric families (INT/UINT
    widths, generic FP, pow2) plus every named format (FP aliases, MX, NVFP4)."""
    return [parse_format(n) for n in _LISTED]
