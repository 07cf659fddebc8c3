"""Shapes of the models the reproduced papers evaluate, as quarch workloads (no weights needed).

Transformer dimensions are those of each model's published Hugging Face config.json
(hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
vocab_size); ViT-B/16 and ViT-H/14 from Dosovitskiy et al. 2021 (Table 1) at 224 px.
Every nn.Linear is an op (BitMoD's shape profiler lists all of them, lm_head included), plus
attention as batched GEMMs over KV heads: QK^T (M = q-per-kv x tokens, N = context, K = head
dim, the "weight" being the K cache) and PV (N = head dim, K = context, weight = V cache).
"""
from __future__ import annotations

from dataclasses import dataclass

from workloads.ops import Gemm, OpFormats
from workloads.workload import Workload, WorkloadMetadata


@dataclass(frozen=True)
class Decoder:
    name: str
    hidden: int
    ffn: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    gated: bool        # gate/up/down MLP (Llama-style) or fc1/fc2 (OPT/Phi)

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def linears(self) -> list[tuple[str, int, int, int]]:
        """(name, in_features, out_features, repeat) of every linear layer."""
        kv = self.kv_heads * self.head_dim
        mlp = [("mlp.gate_up", self.hidden, 2 * self.ffn, self.layers), ("mlp.down", self.ffn, self.hidden, self.layers)] \
            if self.gated else [("fc1", self.hidden, self.ffn, self.layers), ("fc2", self.ffn, self.hidden, self.layers)]
        return [("q_proj", self.hidden, self.hidden, self.layers), ("kv_proj", self.hidden, 2 * kv, self.layers),
                ("o_proj", self.hidden, self.hidden, self.layers), *mlp, ("lm_head", self.hidden, self.vocab, 1)]


BITMOD_MODELS = (
    Decoder("opt-1.3b", 2048, 8192, 24, 32, 32, 50272, False),
    Decoder("phi-2", 2560, 10240, 32, 32, 32, 51200, False),
    Decoder("yi-6b", 4096, 11008, 32, 32, 4, 64000, True),
    Decoder("llama-2-7b", 4096, 11008, 32, 32, 32, 32000, True),
    Decoder("llama-2-13b", 5120, 13824, 40, 40, 40, 32000, True),
    Decoder("llama-3-8b", 4096, 14336, 32, 32, 8, 128256, True),
)
OPT_6_7B = Decoder("opt-6.7b", 4096, 16384, 32, 32, 32, 50272, False)
LLAMA_2_7B = BITMOD_MODELS[3]


def decoder_workload(model: Decoder, tokens: int, context: int, weights: OpFormats, kv: OpFormats,
                     attention: bool = True, lm_head: bool = True) -> Workload:
    """One forward pass over `tokens` new tokens attending to `context` positions."""
    ops = [Gemm(name=name, m=tokens, n=n, k=k, repeat=repeat, formats=weights)
           for name, k, n, repeat in model.linears() if lm_head or name != "lm_head"]
    if attention:
        q_per_kv = model.heads // model.kv_heads
        ops += [Gemm(name="attn_qk", m=q_per_kv * tokens, n=context, k=model.head_dim, batch=model.kv_heads,
                     repeat=model.layers, formats=kv),
                Gemm(name="attn_pv", m=q_per_kv * tokens, n=model.head_dim, k=context, batch=model.kv_heads,
                     repeat=model.layers, formats=kv)]
    return Workload(metadata=WorkloadMetadata(model=model.name, phase="prefill" if tokens > 1 else "decode",
                                              context_len=context, source="quarch.validation.zoo"), ops=tuple(ops))


@dataclass(frozen=True)
class ViT:
    name: str
    hidden: int
    mlp: int
    layers: int
    heads: int
    tokens: int


VIT_B = ViT("vit-b-16", 768, 3072, 12, 12, 197)
VIT_H = ViT("vit-h-14", 1280, 5120, 32, 16, 257)


def vit_workload(model: ViT, batch: int, weights: OpFormats, attention_formats: OpFormats) -> Workload:
    m, head_dim = batch * model.tokens, model.hidden // model.heads
    ops = (Gemm(name="qkv", m=m, n=3 * model.hidden, k=model.hidden, repeat=model.layers, formats=weights),
           Gemm(name="proj", m=m, n=model.hidden, k=model.hidden, repeat=model.layers, formats=weights),
           Gemm(name="fc1", m=m, n=model.mlp, k=model.hidden, repeat=model.layers, formats=weights),
           Gemm(name="fc2", m=m, n=model.hidden, k=model.mlp, repeat=model.layers, formats=weights),
           Gemm(name="attn_qk", m=model.tokens, n=model.tokens, k=head_dim, batch=batch * model.heads,
                repeat=model.layers, formats=attention_formats),
           Gemm(name="attn_pv", m=model.tokens, n=head_dim, k=model.tokens, batch=batch * model.heads,
                repeat=model.layers, formats=attention_formats))
    return Workload(metadata=WorkloadMetadata(model=model.name, batch=batch, source="quarch.validation.zoo"), ops=ops)
