"""Shape-to-op helpers shared by the PyTorch tracer and the ONNX importer.

  matmul A[..., M, K] @ B[..., K, N] -> Gemm over the broadcast batch dims; a right operand
      without batch dims is shared, so the left's batch dims fold into M (batch 1);
  attention with H query heads over G KV heads (GQA) -> score Gemm (group*L x S x d, batch
      B*G: each KV head's keys read once for its group of query heads stacked on M), softmax
      over B*H*L*S scores, value Gemm (group*L x d_v x S);
  ops are named after their owning module/node path: `owner` when it owns one recorded op,
      else `owner.op`, `owner.op_1`, ...; then identical layers collapse into repeats.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from workloads.errors import SpecError
from workloads.ops import Gemm
from workloads.repeats import collapse
from workloads.workload import Workload
from workloads.zoo.layers import vector


@dataclass
class Traced:
    """An imported workload and the ops that were left out (op type -> count)."""

    workload: Workload
    skipped: dict[str, int] = field(default_factory=dict)


def matmul_op(a: tuple[int, ...], b: tuple[int, ...], parameter: bool) -> Gemm:
    a = (1,) + a if len(a) == 1 else a
    b = b + (1,) if len(b) == 1 else b
    m, k, n = a[-2], a[-1], b[-1]
    kind = "parameter" if parameter else "activation"
    batch_a, batch_b = a[:-2], b[:-2]
    if not batch_b:
        return Gemm(name="_", m=m * math.prod(batch_a), n=n, k=k, weight_kind=kind)
    width = max(len(batch_a), len(batch_b))
    padded_a, padded_b = (1,) * (width - len(batch_a)) + batch_a, (1,) * (width - len(batch_b)) + batch_b
    batch = math.prod(max(x, y) for x, y in zip(padded_a, padded_b))
    return Gemm(name="_", m=m, n=n, k=k, batch=batch, weight_kind=kind)


def attention_ops(batch: int, heads: int, kv_heads: int, length: int, span: int, dim: int, v_dim: int,
                  where: str) -> list[tuple[str, object]]:
    if heads % kv_heads:
        raise SpecError(f"{where}: {heads} query heads do not group over {kv_heads} KV heads", field="MODEL")
    group = heads // kv_heads
    return [("score", Gemm(name="_", m=group * length, n=span, k=dim, batch=batch * kv_heads,
                           weight_kind="activation")),
            ("softmax", vector("_", "softmax", batch * heads * length * span)),
            ("value", Gemm(name="_", m=group * length, n=v_dim, k=span, batch=batch * kv_heads,
                           weight_kind="activation"))]


def name_and_collapse(records: list[tuple[str, str, object]]) -> tuple:
    """Ops from (owner, op suffix, op) records, named as the module docstring says, repeats collapsed."""
    per_owner = Counter(owner for owner, _, _ in records)
    seen: Counter = Counter()
    ops = []
    for owner, suffix, op in records:
        if per_owner[owner] == 1 and owner:
            name = owner
        else:
            base = f"{owner}.{suffix}" if owner else suffix
            name = base if seen[base] == 0 else f"{base}_{seen[base]}"
            seen[base] += 1
        ops.append(op.model_copy(update={"name": name}))
    return collapse(ops)
