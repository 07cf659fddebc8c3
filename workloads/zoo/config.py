"""Architecture configs of the zoo (validated from models.yaml) and their parameter counts.

Parameter counts come straight from the architecture, independently of the op expansion
(tests check that both agree and match the published figures). Categories:
  - `matmul`: weights consumed by GEMM/conv ops (what weight quantization targets);
  - `tables`: lookup tables (token, position and token-type embeddings), by op name;
  - `other`: norms, biases, BatchNorm scale/shift, ViT class token and position embedding.
A tied LM head reuses the token-embedding table and adds no parameters.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, TypeAdapter, model_validator

MODELS_PATH = Path(__file__).with_name("models.yaml")


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    default_quant: str = "fp16"

    def parameters(self) -> int:
        counts = self.parameter_breakdown()
        return counts["matmul"] + sum(counts["tables"].values()) + counts["other"]


class _Transformer(_Config):
    hidden: PositiveInt
    layers: PositiveInt
    heads: PositiveInt
    kv_heads: PositiveInt | None = None
    intermediate: PositiveInt
    mlp: Literal["gated_silu", "relu", "gelu"]
    norm: Literal["rmsnorm", "layernorm"]
    norm_first: bool = True
    position: Literal["rope", "learned"]
    linear_bias: bool = False
    fused_qkv: bool = False
    rotary_fraction: float = Field(1.0, gt=0, le=1)
    parallel_block: bool = False

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.hidden % self.heads or self.heads % self.kv:
            raise ValueError(f"heads={self.heads} must divide hidden={self.hidden} and be a multiple of "
                             f"kv_heads={self.kv}")
        return self

    @property
    def kv(self) -> int:
        return self.kv_heads or self.heads

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def _layer_counts(self) -> tuple[int, int]:
        """(matmul weights, other parameters) of one transformer layer."""
        h, q, kv = self.hidden, self.heads * self.head_dim, self.kv * self.head_dim
        mlp_mats = 3 if self.mlp == "gated_silu" else 2
        matmul = h * q + 2 * h * kv + q * h + mlp_mats * h * self.intermediate
        biases = (q + 2 * kv + h + self.intermediate + h) if self.linear_bias else 0
        norms = (1 if self.parallel_block else 2) * self._norm_params()
        return matmul, biases + norms

    def _norm_params(self) -> int:
        return self.hidden * (2 if self.norm == "layernorm" else 1)


class DecoderConfig(_Transformer):
    """Decoder-only LLM (Llama, Mistral, Yi, OPT, Phi-2)."""

    arch: Literal["decoder"]
    vocab: PositiveInt
    max_positions: PositiveInt
    position_offset: int = 0
    lm_head_bias: bool = False
    tie_embeddings: bool = False
    sliding_window: PositiveInt | None = None

    def parameter_breakdown(self) -> dict:
        layer_matmul, layer_other = self._layer_counts()
        tables = {"embed_tokens": self.vocab * self.hidden}
        if self.position == "learned":
            tables["embed_positions"] = (self.max_positions + self.position_offset) * self.hidden
        head = 0 if self.tie_embeddings else self.vocab * self.hidden
        other = self.layers * layer_other + self._norm_params() + (self.vocab if self.lm_head_bias else 0)
        return {"matmul": self.layers * layer_matmul + head, "tables": tables, "other": other}


class EncoderConfig(_Transformer):
    """BERT-style encoder: token + position + token-type embeddings, post-LN layers, pooler."""

    arch: Literal["encoder"]
    vocab: PositiveInt
    max_positions: PositiveInt
    token_types: int = 0
    default_seq: PositiveInt = 128
    pooler: bool = False

    def parameter_breakdown(self) -> dict:
        layer_matmul, layer_other = self._layer_counts()
        h = self.hidden
        tables = {"embed_tokens": self.vocab * h, "embed_positions": self.max_positions * h}
        if self.token_types:
            tables["embed_token_types"] = self.token_types * h
        pooler = (h * h, h) if self.pooler else (0, 0)
        return {"matmul": self.layers * layer_matmul + pooler[0], "tables": tables,
                "other": self.layers * layer_other + self._norm_params() + pooler[1]}


class VitConfig(_Transformer):
    """Vision transformer: patch-embedding conv, class token, learned positions, classifier head."""

    arch: Literal["vit"]
    image: PositiveInt
    patch: PositiveInt
    channels: PositiveInt = 3
    classes: PositiveInt

    @property
    def tokens(self) -> int:
        return (self.image // self.patch) ** 2 + 1

    def parameter_breakdown(self) -> dict:
        layer_matmul, layer_other = self._layer_counts()
        h = self.hidden
        patch_weights = self.channels * self.patch ** 2 * h
        other = (self.layers * layer_other + h  # patch-conv bias
                 + h + self.tokens * h  # class token, position embedding
                 + self._norm_params() + self.classes)  # final norm, head bias
        return {"matmul": patch_weights + self.layers * layer_matmul + h * self.classes, "tables": {},
                "other": other}


class ResNetConfig(_Config):
    """ResNet (basic or bottleneck blocks, torchvision v1.5 strides), BatchNorm after every conv."""

    arch: Literal["resnet"]
    block: Literal["basic", "bottleneck"]
    blocks: tuple[PositiveInt, ...]
    widths: tuple[PositiveInt, ...]
    image: PositiveInt = 224
    classes: PositiveInt = 1000

    @property
    def expansion(self) -> int:
        return 4 if self.block == "bottleneck" else 1

    def parameter_breakdown(self) -> dict:
        convs = [(3, 64, 7)]  # (in, out, kernel)
        cin = 64
        for stage, (count, width) in enumerate(zip(self.blocks, self.widths)):
            cout = width * self.expansion
            for index in range(count):
                if self.block == "basic":
                    convs += [(cin, width, 3), (width, width, 3)]
                else:
                    convs += [(cin, width, 1), (width, width, 3), (width, cout, 1)]
                if index == 0 and (stage > 0 or cin != cout):  # stride 2 or wider
                    convs.append((cin, cout, 1))
                cin = cout
        weights = sum(i * o * k * k for i, o, k in convs) + cin * self.classes
        batchnorm = sum(2 * o for _, o, _ in convs)
        return {"matmul": weights, "tables": {}, "other": batchnorm + self.classes}


class MobileNetV2Config(_Config):
    """MobileNetV2: inverted residual stages [t, c, n, s], BatchNorm after every conv."""

    arch: Literal["mobilenetv2"]
    stem: PositiveInt
    stages: tuple[tuple[PositiveInt, PositiveInt, PositiveInt, PositiveInt], ...]
    last: PositiveInt
    image: PositiveInt = 224
    classes: PositiveInt = 1000

    def parameter_breakdown(self) -> dict:
        convs = [(3, self.stem, 3 * 3 * 3 * self.stem)]  # (in, out, weights)
        cin = self.stem
        for expansion, cout, count, _ in self.stages:
            for _ in range(count):
                hidden = cin * expansion
                if expansion != 1:
                    convs.append((cin, hidden, cin * hidden))
                convs += [(hidden, hidden, 9 * hidden), (hidden, cout, hidden * cout)]
                cin = cout
        convs.append((cin, self.last, cin * self.last))
        weights = sum(w for _, _, w in convs) + self.last * self.classes
        return {"matmul": weights, "tables": {}, "other": sum(2 * o for _, o, _ in convs) + self.classes}


ModelConfig = Annotated[Union[DecoderConfig, EncoderConfig, VitConfig, ResNetConfig, MobileNetV2Config],
                        Field(discriminator="arch")]
_ADAPTER = TypeAdapter(dict[str, ModelConfig])


@functools.cache
def zoo_configs() -> dict[str, BaseModel]:
    """Every zoo model's config by name, validated once from models.yaml."""
    return _ADAPTER.validate_python(yaml.safe_load(MODELS_PATH.read_text()))
