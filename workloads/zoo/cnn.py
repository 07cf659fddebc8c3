"""CNN expansion: ResNet and MobileNetV2 configs -> convolutions, pools, residual adds, classifier.

Inference form, as accelerators deploy it: BatchNorm folded into the preceding convolution's
weights and bias, ReLU/ReLU6 fused into the convolution's output stage, so neither is an op
(their parameters still count in `parameter_breakdown`). Convolutions are padded to keep
`size / stride` outputs (torchvision's definitions); max-pool 3x3/2 reads its input once
(`reduce_max` over the input, one output per window); global average pool is a `reduce_sum`.
ResNet blocks (torchvision v1.5): basic = 3x3(stride) -> 3x3; bottleneck = 1x1 -> 3x3(stride)
-> 1x1 (x4 channels); a 1x1 `downsample` conv on the shortcut where stride or width changes.
MobileNetV2 blocks: [1x1 expand (t > 1)] -> 3x3 depthwise(stride) -> 1x1 project, residual
when stride 1 and the width is unchanged. Identical per-block ops collapse into repeats.
"""
from __future__ import annotations

from workloads.repeats import collapse
from workloads.zoo.config import MobileNetV2Config, ResNetConfig
from workloads.zoo.layers import conv, gemm, vector


def resnet_ops(c: ResNetConfig, batch: int) -> tuple:
    stem_out = c.image // 2
    size = stem_out // 2
    ops = [conv("conv1", batch, c.image, 3, 64, 7, 2),
           vector("maxpool", "reduce_max", batch * stem_out ** 2 * 64, outputs=batch * size ** 2 * 64)]
    cin = 64
    for stage, (count, width) in enumerate(zip(c.blocks, c.widths)):
        cout = width * c.expansion
        for index in range(count):
            stride = 2 if stage > 0 and index == 0 else 1
            name = f"layer{stage + 1}.{index}."
            out = size // stride
            if c.block == "basic":
                ops += [conv(name + "conv1", batch, size, cin, width, 3, stride),
                        conv(name + "conv2", batch, out, width, width, 3)]
            else:
                ops += [conv(name + "conv1", batch, size, cin, width, 1),
                        conv(name + "conv2", batch, size, width, width, 3, stride),
                        conv(name + "conv3", batch, out, width, cout, 1)]
            if stride != 1 or cin != cout:
                ops.append(conv(name + "downsample", batch, size, cin, cout, 1, stride))
            ops.append(vector(name + "add", "add", batch * out ** 2 * cout, inputs=2))
            cin, size = cout, out
    ops += [vector("avgpool", "reduce_sum", batch * size ** 2 * cin, outputs=batch * cin),
            gemm("fc", batch, c.classes, cin)]
    return collapse(ops)


def mobilenetv2_ops(c: MobileNetV2Config, batch: int) -> tuple:
    size = c.image // 2
    ops = [conv("stem", batch, c.image, 3, c.stem, 3, 2)]
    cin, block = c.stem, 0
    for expansion, cout, count, first_stride in c.stages:
        for index in range(count):
            stride = first_stride if index == 0 else 1
            hidden = cin * expansion
            name = f"blocks.{block}."
            if expansion != 1:
                ops.append(conv(name + "expand", batch, size, cin, hidden, 1))
            ops += [conv(name + "depthwise", batch, size, hidden, hidden, 3, stride, groups=hidden),
                    conv(name + "project", batch, size // stride, hidden, cout, 1)]
            size //= stride
            if stride == 1 and cin == cout:
                ops.append(vector(name + "add", "add", batch * size ** 2 * cout, inputs=2))
            cin, block = cout, block + 1
    ops += [conv("conv_last", batch, size, cin, c.last, 1),
            vector("avgpool", "reduce_sum", batch * size ** 2 * c.last, outputs=batch * c.last),
            gemm("classifier", batch, c.classes, c.last)]
    return collapse(ops)
