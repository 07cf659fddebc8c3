"""Transformer expansion: a config + phase -> the real ops of every layer, layers as repeats.

Per layer (T tokens in flight, heads H, KV heads G, head dim d, group H/G, attention span S):
  q_proj T x (H d) x hidden, k_proj/v_proj T x (G d) x hidden (GQA), o_proj T x hidden x (H d);
  score and value GEMMs per (sequence, KV head): queries of the group's heads stacked on M
  (M = group * q_len) against that head's keys/values, so each K/V slice is read once:
  score (group q_len) x S x d, value (group q_len) x d x S, batch = sequences * G;
  softmax over H q_len S scores per sequence; rotary on the rotated part of Q and K;
  MLP gated (gate, up, SiLU, multiply, down) or plain (fc1, activation, fc2); norms, residual
  adds (one three-input add in a parallel block).
Phases: `prefill` (batch sequences of `seq` tokens: q_len = S = seq, attention over the fresh
K/V, the masked half computed as a dense GEMM) and `decode` (one new token per sequence:
q_len = 1, S = ctx cached positions read from the KV cache, weight_kind kv_cache). Both write
T * 2 G d new keys/values (`kv_write`, sized by the KV format). A sliding window caps S.
The LM head runs on the last position of each sequence (what generation needs); encoders
(BERT, ViT) run all tokens, with their pooler/classifier on the first token.
"""
from __future__ import annotations

from workloads.zoo.config import DecoderConfig, EncoderConfig, VitConfig, _Transformer
from workloads.zoo.layers import ROTARY_OPS_PER_ELEMENT, LayerStack, conv, gemm, vector


def decoder_ops(c: DecoderConfig, phase: str, batch: int, length: int, layers: int) -> list:
    """Ops of a decoder LLM: prefill of `length`-token prompts or decode at context `length`."""
    q_len = length if phase == "prefill" else 1
    tokens = batch * q_len
    span = min(length, c.sliding_window or length)
    ops = [vector("embed_tokens", "gather", tokens * c.hidden)]
    if c.position == "learned":
        ops += [vector("embed_positions", "gather", tokens * c.hidden),
                vector("embed_add", "add", tokens * c.hidden, inputs=2)]
    stack = LayerStack("layers", layers)
    stack.vector("input_layernorm", c.norm, tokens * c.hidden)
    _attention(stack, c, batch, q_len, span, "activation" if phase == "prefill" else "kv_cache", kv_write=True)
    if c.parallel_block:  # attention and MLP read the same normed input; one add joins both
        _mlp(stack, c, tokens)
        stack.vector("residual_add", "add", tokens * c.hidden, inputs=3)
    else:
        stack.vector("attn_residual_add", "add", tokens * c.hidden, inputs=2)
        stack.vector("post_attention_layernorm", c.norm, tokens * c.hidden)
        _mlp(stack, c, tokens)
        stack.vector("mlp_residual_add", "add", tokens * c.hidden, inputs=2)
    return ops + stack.ops + [vector("norm", c.norm, tokens * c.hidden), gemm("lm_head", batch, c.vocab, c.hidden)]


def encoder_ops(c: EncoderConfig, batch: int, seq: int, layers: int) -> list:
    """Ops of a BERT-style encoder over `batch` sequences of `seq` tokens."""
    tokens = batch * seq
    tables = ["embed_tokens", "embed_positions"] + (["embed_token_types"] if c.token_types else [])
    ops = [vector(name, "gather", tokens * c.hidden) for name in tables]
    ops += [vector("embed_add", "add", tokens * c.hidden, inputs=len(tables)),
            vector("embed_layernorm", c.norm, tokens * c.hidden)]
    ops += _encoder_layers(c, batch, seq, layers)
    if c.pooler:
        ops += [gemm("pooler", batch, c.hidden, c.hidden), vector("pooler_tanh", "tanh", batch * c.hidden)]
    return ops


def vit_ops(c: VitConfig, batch: int, layers: int) -> list:
    """Ops of a vision transformer on `batch` images: patch conv, layers, final norm, head on the class token."""
    tokens = batch * c.tokens
    ops = [conv("patch_embed", batch, c.image, c.channels, c.hidden, c.patch, c.patch, pad=0),
           vector("pos_embed_add", "add", tokens * c.hidden, inputs=2)]
    ops += _encoder_layers(c, batch, c.tokens, layers)
    return ops + [vector("norm", c.norm, tokens * c.hidden), gemm("head", batch, c.classes, c.hidden)]


def _encoder_layers(c: _Transformer, batch: int, seq: int, layers: int) -> list:
    tokens = batch * seq
    stack = LayerStack("layers", layers)
    if c.norm_first:
        stack.vector("norm1", c.norm, tokens * c.hidden)
    _attention(stack, c, batch, seq, seq, "activation", kv_write=False)
    stack.vector("attn_residual_add", "add", tokens * c.hidden, inputs=2)
    stack.vector("norm2" if c.norm_first else "attn_layernorm", c.norm, tokens * c.hidden)
    _mlp(stack, c, tokens)
    stack.vector("mlp_residual_add", "add", tokens * c.hidden, inputs=2)
    if not c.norm_first:
        stack.vector("mlp_layernorm", c.norm, tokens * c.hidden)
    return stack.ops


def _attention(stack: LayerStack, c: _Transformer, batch: int, q_len: int, span: int, kv_kind: str,
               kv_write: bool) -> None:
    tokens, d = batch * q_len, c.head_dim
    group = c.heads // c.kv
    if c.fused_qkv:
        stack.gemm("self_attn.qkv_proj", tokens, (c.heads + 2 * c.kv) * d, c.hidden)
    else:
        stack.gemm("self_attn.q_proj", tokens, c.heads * d, c.hidden)
        stack.gemm("self_attn.k_proj", tokens, c.kv * d, c.hidden)
        stack.gemm("self_attn.v_proj", tokens, c.kv * d, c.hidden)
    if c.position == "rope":
        rotated = int(d * c.rotary_fraction)
        stack.vector("self_attn.rotary", "mul", tokens * (c.heads + c.kv) * rotated,
                     ops_per_element=ROTARY_OPS_PER_ELEMENT)
    if kv_write:
        stack.vector("self_attn.kv_write", "kv_write", tokens * 2 * c.kv * d)
    stack.gemm("self_attn.score", group * q_len, span, d, batch=batch * c.kv, weight_kind=kv_kind)
    stack.vector("self_attn.softmax", "softmax", batch * c.heads * q_len * span)
    stack.gemm("self_attn.value", group * q_len, d, span, batch=batch * c.kv, weight_kind=kv_kind)
    stack.gemm("self_attn.o_proj", tokens, c.hidden, c.heads * d)


def _mlp(stack: LayerStack, c: _Transformer, tokens: int) -> None:
    if c.mlp == "gated_silu":
        stack.gemm("mlp.gate_proj", tokens, c.intermediate, c.hidden)
        stack.gemm("mlp.up_proj", tokens, c.intermediate, c.hidden)
        stack.vector("mlp.act", "silu", tokens * c.intermediate)
        stack.vector("mlp.gate_mul", "mul", tokens * c.intermediate, inputs=2)
        stack.gemm("mlp.down_proj", tokens, c.hidden, c.intermediate)
    else:
        stack.gemm("mlp.fc1", tokens, c.intermediate, c.hidden)
        stack.vector("mlp.act", c.mlp, tokens * c.intermediate)
        stack.gemm("mlp.fc2", tokens, c.hidden, c.intermediate)
