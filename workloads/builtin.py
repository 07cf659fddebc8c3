"""Built-in workload names kept from before the zoo, as thin wrappers over it (the zoo is the one source).

`resnet18` is the zoo's ResNet-18 (He et al., CVPR 2016, Table 1; INT8; ~1.81 G MACs) and
`resnet50` its ResNet-50 (~4.09 G MACs). `llama2-7b-layer` is one Llama-2-7B decoder layer
(hidden 4096, MLP 11008, 32 heads; Touvron et al. 2023) in one decode step at batch 1 with a
2048-token KV cache, fp16: the zoo's `llama2-7b:decode:batch=1,ctx=2048,layers=1` without the
embedding, final norm and LM head.
"""
from __future__ import annotations

from workloads.workload import Workload
from workloads.zoo import build


def resnet18() -> Workload:
    return build("resnet18")


def resnet50() -> Workload:
    return build("resnet50")


def llama2_7b_decode_layer() -> Workload:
    full = build("llama2-7b", phase="decode", batch=1, ctx=2048, layers=1)
    layer = tuple(op for op in full.ops if op.name.startswith("layers."))
    return full.model_copy(update={"ops": layer,
                                   "metadata": full.metadata.model_copy(update={"model": "llama2-7b-layer"})})


BUILTIN = {"resnet18": resnet18, "resnet50": resnet50, "llama2-7b-layer": llama2_7b_decode_layer}
