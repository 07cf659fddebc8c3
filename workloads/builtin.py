"""Built-in workloads available with no files: ResNet-18/50 and a Llama-2-7B decoder layer.

ResNet-18 and ResNet-50 (He et al., CVPR 2016, Table 1) at 224x224, padded convolutions,
identical layers as repeats; ~1.82 G and ~3.86 G MACs. ResNet-50 follows the paper: the
bottleneck's first 1x1 conv carries the stride (sec. 3.4; torchvision's "v1.5" moves it to
the 3x3 conv, 4.09 G MACs) and projection shortcuts only where the shape changes (option B). The Llama-2-7B layer (hidden 4096, MLP 11008, 32 heads;
Touvron et al. 2023) is one decode step at batch 1 with a 2048-token KV cache.
"""
from __future__ import annotations

from workloads.ops import Conv2d, Gemm, OpFormats, Vector
from workloads.workload import Workload, WorkloadMetadata

INT8 = OpFormats(weight="int8", activation="int8", output="int8")


def _conv(name, size, cin, cout, kernel, stride=1, repeat=1):
    return Conv2d(name=name, in_h=size, in_w=size, in_channels=cin, out_channels=cout, kernel_h=kernel,
                  kernel_w=kernel, stride_h=stride, stride_w=stride, pad_h=kernel // 2, pad_w=kernel // 2,
                  repeat=repeat, formats=INT8)


def resnet18() -> Workload:
    ops = [_conv("conv1", 224, 3, 64, 7, 2),
           Vector(name="maxpool", operation="reduce_max", elements=112 * 112 * 64, outputs=56 * 56 * 64,
                  formats=INT8),
           _conv("layer1.conv", 56, 64, 64, 3, repeat=4),
           Vector(name="layer1.add", operation="add", elements=56 * 56 * 64, inputs=2, repeat=2, formats=INT8)]
    size, cin = 56, 64
    for stage, cout in ((2, 128), (3, 256), (4, 512)):
        size //= 2
        ops += [_conv(f"layer{stage}.0.conv1", size * 2, cin, cout, 3, 2),
                _conv(f"layer{stage}.0.downsample", size * 2, cin, cout, 1, 2),
                _conv(f"layer{stage}.conv", size, cout, cout, 3, repeat=3),
                Vector(name=f"layer{stage}.add", operation="add", elements=size * size * cout, inputs=2,
                       repeat=2, formats=INT8)]
        cin = cout
    ops += [Vector(name="avgpool", operation="reduce_sum", elements=7 * 7 * 512, outputs=512, formats=INT8),
            Gemm(name="fc", m=1, n=1000, k=512, formats=INT8)]
    return Workload(metadata=WorkloadMetadata(model="resnet18", source="quarch built-in"),
                    ops=tuple(ops))


def resnet50() -> Workload:
    ops = [_conv("conv1", 224, 3, 64, 7, 2),
           Vector(name="maxpool", operation="reduce_max", elements=112 * 112 * 64, outputs=56 * 56 * 64,
                  formats=INT8)]
    size, cin = 56, 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        stride = 1 if stage == 2 else 2
        out = size // stride
        ops += [_conv(f"conv{stage}_1.a", size, cin, width, 1, stride),
                _conv(f"conv{stage}_1.b", out, width, width, 3),
                _conv(f"conv{stage}_1.c", out, width, 4 * width, 1),
                _conv(f"conv{stage}_1.projection", size, cin, 4 * width, 1, stride),
                _conv(f"conv{stage}_x.a", out, 4 * width, width, 1, repeat=blocks - 1),
                _conv(f"conv{stage}_x.b", out, width, width, 3, repeat=blocks - 1),
                _conv(f"conv{stage}_x.c", out, width, 4 * width, 1, repeat=blocks - 1),
                Vector(name=f"conv{stage}.add", operation="add", elements=out * out * 4 * width, inputs=2,
                       repeat=blocks, formats=INT8)]
        size, cin = out, 4 * width
    ops += [Vector(name="avgpool", operation="reduce_sum", elements=7 * 7 * 2048, outputs=2048, formats=INT8),
            Gemm(name="fc", m=1, n=1000, k=2048, formats=INT8)]
    return Workload(metadata=WorkloadMetadata(model="resnet50", source="quarch built-in"), ops=tuple(ops))


def llama2_7b_decode_layer() -> Workload:
    context = 2048
    fp16 = OpFormats(weight="fp16", activation="fp16", output="fp16")
    hidden, mlp, heads = 4096, 11008, 32
    head_dim = hidden // heads
    ops = (Gemm(name="qkv_proj", m=1, n=3 * hidden, k=hidden, formats=fp16),
           Gemm(name="attn_score", m=1, n=context, k=head_dim, batch=heads, formats=fp16),
           Vector(name="softmax", operation="softmax", elements=heads * context, ops_per_element=5, formats=fp16),
           Gemm(name="attn_value", m=1, n=head_dim, k=context, batch=heads, formats=fp16),
           Gemm(name="o_proj", m=1, n=hidden, k=hidden, formats=fp16),
           Gemm(name="mlp_gate_up", m=1, n=2 * mlp, k=hidden, formats=fp16),
           Gemm(name="mlp_down", m=1, n=hidden, k=mlp, formats=fp16))
    return Workload(metadata=WorkloadMetadata(model="llama2-7b-layer", phase="decode", context_len=context,
                                              source="quarch built-in"), ops=ops)


BUILTIN = {"resnet18": resnet18, "resnet50": resnet50, "llama2-7b-layer": llama2_7b_decode_layer}
