"""The model zoo: workloads built from architecture configs (models.yaml), no weights needed.

A zoo name is `MODEL[:PHASE][:key=value,...]`, e.g. `llama2-7b:decode:batch=1,ctx=2048`,
`llama2-70b:prefill:batch=4,seq=512`, `bert-base:seq=384`, `resnet50:batch=8`. Keys:
  batch     sequences / images (default 1)
  ctx       decode: cached positions attended to (default min(2048, max positions))
  seq       prefill and encoders: tokens per sequence (default as ctx; BERT 128)
  layers    build only the first N transformer layers (default all)
  quant     a uniform scheme (W4A16G128, W8A8, W4A4KV4, fp16, ...; default per model)
  kv        the KV-cache format (default: the scheme's)
  policy    a policy file (.yaml/.csv, see workloads.quant); quant= and kv= override its default and kv_cache
Decoders have phases `prefill` and `decode` (default decode); others run `inference`.
"""
from __future__ import annotations

import difflib

from pydantic import ValidationError

from workloads.errors import SpecError, from_validation_error
from workloads.formats import FormatError
from workloads.quant import QuantPolicy, WeightMemory, apply_policy, load_policy, weight_memory
from workloads.workload import Workload, WorkloadMetadata
from workloads.zoo.cnn import mobilenetv2_ops, resnet_ops
from workloads.zoo.config import (DecoderConfig, EncoderConfig, MobileNetV2Config, ResNetConfig, VitConfig,
                                  zoo_configs)
from workloads.zoo.transformer import decoder_ops, encoder_ops, vit_ops

DEFAULT_LENGTH = 2048
_KEYS = ("batch", "ctx", "seq", "layers", "quant", "kv", "policy")
_INT_KEYS = ("batch", "ctx", "seq", "layers")


def zoo_names() -> list[str]:
    return list(zoo_configs())


def is_zoo_name(spec: str) -> bool:
    return spec.partition(":")[0].lower() in zoo_configs()


def closest_name(name: str) -> str | None:
    """The zoo model whose name is closest to `name` (difflib), if any is close."""
    close = difflib.get_close_matches(name.partition(":")[0].lower(), zoo_names(), n=1, cutoff=0.4)
    return close[0] if close else None


def load_zoo(spec: str) -> Workload:
    """Build the workload a zoo name describes (module docstring); bad names are `SpecError`s."""
    model, *parts = spec.split(":")
    phase, options = None, {}
    for part in parts:
        if "=" not in part:
            if phase is not None:
                raise SpecError(f"{spec!r}: one phase at most, got {phase!r} and {part!r}", field="--workload")
            phase = part.strip().lower()
            continue
        for item in filter(None, (p.strip() for p in part.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in _KEYS:
                raise SpecError(f"{item!r} in {spec!r}: allowed keys are {', '.join(_KEYS)} (key=value)",
                                field="--workload")
            options[key] = value.strip()
    for key in _INT_KEYS:
        if key in options:
            if not options[key].isdigit() or int(options[key]) < 1:
                raise SpecError(f"{key}={options[key]!r} in {spec!r}: must be a positive integer", field="--workload")
            options[key] = int(options[key])
    path = options.pop("policy", None)
    policy = load_policy(path) if path else QuantPolicy()
    updates = {"default": options.pop("quant", None), "kv_cache": options.pop("kv", None)}
    if "default" not in policy.model_fields_set and updates["default"] is None and is_zoo_name(model):
        updates["default"] = zoo_configs()[model.lower()].default_quant
    policy = _policy({**policy.model_dump(exclude_unset=True), **{k: v for k, v in updates.items() if v}},
                     spec)
    return build(model, phase=phase, policy=policy, policy_file=path, **options)


def _policy(fields: dict, spec: str) -> QuantPolicy:
    try:
        return QuantPolicy.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as err:
        raise from_validation_error(err, prefix=f"--workload {spec}") from None
    except FormatError as err:
        raise SpecError(str(err), field=f"--workload {spec}") from None


def build(model: str, *, phase: str | None = None, batch: int = 1, ctx: int | None = None, seq: int | None = None,
          layers: int | None = None, policy: QuantPolicy | None = None, policy_file: str | None = None) -> Workload:
    """The zoo workload of `model` (module docstring) with formats from `policy` (default: the
    model's `default_quant`); `policy_file` names the policy's file in error messages."""
    name = model.lower()
    config = zoo_configs().get(name)
    if config is None:
        close = closest_name(name)
        hint = f"did you mean {close!r}? " if close else ""
        raise SpecError(f"{model!r} is not a zoo model: {hint}models are {', '.join(zoo_names())}", field="--workload")
    is_decoder = isinstance(config, DecoderConfig)
    allowed_phases = ("prefill", "decode") if is_decoder else ("inference",)
    phase = phase or allowed_phases[-1]
    if phase not in allowed_phases:
        raise SpecError(f"phase {phase!r} not allowed for {name}: allowed are {', '.join(allowed_phases)}",
                        field="--workload")
    layer_count = getattr(config, "layers", None)
    if layers is not None and (layer_count is None or layers > layer_count):
        raise SpecError(f"layers={layers} not allowed for {name}: "
                        + (f"it has {layer_count} layers" if layer_count else "only transformers take layers="),
                        field="--workload")
    length_key = "ctx" if phase == "decode" else "seq"
    wrong_key = "seq" if phase == "decode" else "ctx"
    if (seq if phase == "decode" else ctx) is not None:
        raise SpecError(f"{wrong_key}= does not apply to {name} {phase}: use {length_key}=", field="--workload")
    if isinstance(config, (VitConfig, ResNetConfig, MobileNetV2Config)) and seq is not None:
        raise SpecError(f"seq= does not apply to {name}: its input size is fixed by the image", field="--workload")
    layers = layers or layer_count
    if isinstance(config, DecoderConfig):
        length = (ctx if phase == "decode" else seq) or min(DEFAULT_LENGTH, config.max_positions)
        _check_length(name, length_key, length, config.max_positions)
        ops = decoder_ops(config, phase, batch, length, layers)
    elif isinstance(config, EncoderConfig):
        length = seq or config.default_seq
        _check_length(name, "seq", length, config.max_positions)
        ops = encoder_ops(config, batch, length, layers)
    elif isinstance(config, VitConfig):
        length, ops = config.tokens, vit_ops(config, batch, layers)
    elif isinstance(config, ResNetConfig):
        length, ops = None, resnet_ops(config, batch)
    else:
        length, ops = None, mobilenetv2_ops(config, batch)
    policy = policy or QuantPolicy(default=config.default_quant)
    spec = f"{name}:{phase}:batch={batch}" + (f",{length_key}={length}" if length else "")
    metadata = WorkloadMetadata(
        model=spec + (f",layers={layers}" if layers != layer_count else ""), phase=phase, batch=batch,
        seq_len=length if phase != "decode" and length else None, context_len=length if phase == "decode" else None,
        source=f"quarch zoo ({config.source})")
    return apply_policy(Workload(metadata=metadata, ops=tuple(ops)), policy, file=policy_file)


def _check_length(name: str, key: str, length: int, limit: int) -> None:
    if length > limit:
        raise SpecError(f"{key}={length} not allowed for {name}: at most its {limit} positions", field="--workload")


def model_weight_memory(model: str, workload: Workload) -> WeightMemory:
    """Weight memory of a zoo `workload` of `model`, its lookup tables and other parameters included."""
    config = zoo_configs()[model.partition(":")[0].lower()]
    counts = config.parameter_breakdown()
    tables = dict(counts["tables"])
    if getattr(config, "tie_embeddings", False):
        tables.pop("embed_tokens")  # stored once, as the LM head's weights
    return weight_memory(workload, tables, counts["other"])


__all__ = ["build", "load_zoo", "zoo_names", "is_zoo_name", "closest_name", "model_weight_memory"]
