"""PyTorch tracer: small modules built here, traced on fake tensors, checked against the zoo's
expansion of the same architecture (a second implementation) and against torch's own parameter count."""
from __future__ import annotations

import math
from collections import Counter

import pytest

from workloads.errors import SpecError
from workloads.ops import Conv2d, Gemm
from workloads.quant import QuantPolicy
from workloads.zoo import build
from workloads.zoo.config import DecoderConfig, VitConfig
from workloads.zoo.transformer import decoder_ops, vit_ops

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
from torch_models import Llama, ResNet18, Vit  # noqa: E402  (tests/ is on sys.path under pytest)

DECODER = DecoderConfig(arch="decoder", source="test", hidden=64, layers=3, heads=8, kv_heads=2, intermediate=96,
                        vocab=100, max_positions=64, mlp="gated_silu", norm="rmsnorm", position="rope")
VIT = VitConfig(arch="vit", source="test", hidden=48, layers=2, heads=4, intermediate=96, image=32, patch=8,
                classes=10, mlp="gelu", norm="layernorm", position="learned", linear_bias=True, fused_qkv=True)


def _array_ops(ops) -> Counter:
    """Multiset of the GEMM/conv work: shapes, batch, repeat and weight kind."""
    shapes = Counter()
    for op in ops:
        if isinstance(op, Gemm):
            shapes[("gemm", op.m, op.n, op.k, op.batch, op.weight_kind)] += op.repeat
        elif isinstance(op, Conv2d):
            shapes[("conv", op.gemm_view().m, op.gemm_view().n, op.gemm_view().k, op.groups)] += op.repeat
    return shapes


def test_llama_trace_matches_the_zoo_expansion_and_torch_parameter_count():
    from workloads.trace_torch import trace_module
    batch, seq = 2, 16
    models = []

    def factory():
        models.append(Llama(DECODER))
        return models[-1], torch.randint(0, DECODER.vocab, (batch, seq))

    traced = trace_module(factory, name="tiny-llama").workload
    assert _array_ops(traced.ops) == _array_ops(decoder_ops(DECODER, "prefill", batch, seq, DECODER.layers))
    assert traced.macs == sum(op.macs * op.repeat for op in decoder_ops(DECODER, "prefill", batch, seq, 3))
    assert sum(p.numel() for p in models[0].parameters()) == DECODER.parameters()
    names = {op.name: op.repeat for op in traced.ops}
    assert names["layers.0-2.self_attn.q_proj"] == 3 and names["layers.0-2.self_attn.score"] == 3
    assert names["lm_head"] == 1 and "embed_tokens" in names


def test_vit_trace_matches_the_zoo_expansion_and_torch_parameter_count():
    from workloads.trace_torch import trace_module
    models = []

    def factory():
        models.append(Vit(VIT))
        return models[-1], torch.randn(3, 3, VIT.image, VIT.image)

    traced = trace_module(factory).workload
    assert _array_ops(traced.ops) == _array_ops(vit_ops(VIT, 3, VIT.layers))
    assert sum(p.numel() for p in models[0].parameters()) == VIT.parameters()


def test_resnet18_trace_matches_the_zoo_and_published_parameters():
    from workloads.trace_torch import trace_module
    models = []

    def factory():
        models.append(ResNet18())
        return models[-1], torch.randn(1, 3, 224, 224)

    traced = trace_module(factory, policy=QuantPolicy(default="w8a8")).workload
    zoo = build("resnet18")
    assert _array_ops(traced.ops) == _array_ops(zoo.ops) and traced.macs == zoo.macs
    assert sum(p.numel() for p in models[0].parameters()) == 11_689_512  # torchvision's table
    assert {op.name for op in traced.ops if isinstance(op, Conv2d)} >= {"conv1", "layer1.0-1.conv1",
                                                                       "layer2.0.downsample.0"}


def test_fake_tensors_allocate_no_weights():
    from workloads.trace_torch import trace_module

    def factory():  # 400 GB of fp32 weights if they were real
        return nn.Linear(100_000, 1_000_000, bias=False), torch.randn(4, 100_000)

    op = trace_module(factory).workload.ops[0]
    assert (op.m, op.n, op.k, op.weight_kind) == (4, 1_000_000, 100_000, "parameter")


def test_matmul_forms_and_policy_by_traced_name():
    from workloads.trace_torch import trace_module

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(32, 16))
            self.proj = nn.Linear(16, 8)

        def forward(self, x, y):
            shared = torch.matmul(x, self.w)  # [2, 5, 7, 32] @ [32, 16]: batch folds into M
            pairwise = torch.matmul(x, y)  # [2, 5, 7, 32] @ [5, 32, 9]: broadcast batch 2*5
            return self.proj(shared), torch.bmm(x[0], y), pairwise

    traced = trace_module(lambda: (Mixed(), (torch.randn(2, 5, 7, 32), torch.randn(5, 32, 9))),
                          policy=QuantPolicy(default="w4a8", layers={"proj": "int8"})).workload
    gemms = {op.name: op for op in traced.ops}
    assert {name: (g.m, g.n, g.k, g.batch, g.weight_kind) for name, g in gemms.items()} == {
        "matmul": (70, 16, 32, 1, "parameter"), "matmul_1": (7, 9, 32, 10, "activation"),
        "proj": (70, 8, 16, 1, "parameter"), "bmm": (7, 9, 32, 5, "activation")}
    assert gemms["proj"].formats.weight == "int8" and gemms["matmul"].formats.weight == "int4"


def test_bad_factories(tmp_path):
    from workloads.trace_torch import load_factory, trace_module
    with pytest.raises(SpecError, match="must return \\(nn.Module, example_inputs\\)"):
        trace_module(lambda: nn.Linear(2, 2))
    with pytest.raises(SpecError, match="no matmul, conv, attention or vector op"):
        trace_module(lambda: (nn.Identity(), torch.randn(2)))
    with pytest.raises(SpecError, match="torch.export failed"):
        trace_module(lambda: (nn.Linear(3, 2), torch.randn(4, 5)))
    with pytest.raises(SpecError, match="cannot import"):
        load_factory("no_such_module_anywhere:make")
    source = tmp_path / "models.py"
    source.write_text("import torch\n\ndef make():\n    return torch.nn.Linear(8, 4), torch.randn(3, 8)\n")
    assert math.prod((3, 4, 8)) == trace_module(load_factory(f"{source}:make")).workload.macs
    with pytest.raises(SpecError, match="'missing' is not a callable"):
        load_factory(f"{source}:missing")
