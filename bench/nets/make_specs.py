"""Writes the specs of the benchmark networks (ResNet-56 for CIFAR and
ResNet-18 for ImageNet, every 3x3 convolution an ACBlock). Plain Python,
no torch: `python3 bench/nets/make_specs.py`. Their weights are made at
benchmark time (internal/synth), or by bench/peers/export.py for the
ONNX Runtime comparison."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = "# Written by bench/nets/make_specs.py; do not edit by hand.\n"


def layer(**kv):
    parts = []
    for k, v in kv.items():
        if isinstance(v, list):
            v = "[" + ", ".join(v) + "]"
        parts.append(f"{k}: {v}")
    return "  - {" + ", ".join(parts) + "}\n"


def basic_block(prefix, cin, cout, stride, prev):
    s = layer(name=f"{prefix}.conv1", op="acblock", out=cout, kernel=3,
              **({"stride": stride} if stride != 1 else {}), inputs=[prev])
    s += layer(name=f"{prefix}.relu1", op="relu")
    s += layer(name=f"{prefix}.conv2", op="acblock", out=cout, kernel=3)
    short = prev
    if stride != 1 or cin != cout:
        s += layer(name=f"{prefix}.shortcut.conv", op="conv", out=cout, kernel=1,
                   stride=stride, inputs=[prev], prefix=f"{prefix}.shortcut.0")
        s += layer(name=f"{prefix}.shortcut.bn", op="bn", prefix=f"{prefix}.shortcut.1")
        short = f"{prefix}.shortcut.bn"
    s += layer(name=f"{prefix}.add", op="add", inputs=[f"{prefix}.conv2", short])
    s += layer(name=f"{prefix}.relu2", op="relu")
    return s, f"{prefix}.relu2"


def cifar_resnet(depth):
    n = (depth - 2) // 6
    s = HEADER + f"name: resnet{depth}\ninput: [3, 32, 32]\nlayers:\n"
    s += layer(name="conv1", op="acblock", out=16, kernel=3)
    s += layer(name="relu1", op="relu")
    prev, cin = "relu1", 16
    for stage, cout in enumerate([16, 32, 64], start=1):
        for b in range(n):
            stride = 2 if stage > 1 and b == 0 else 1
            blk, prev = basic_block(f"stage{stage}.{b}", cin, cout, stride, prev)
            s += blk
            cin = cout
    s += layer(name="gap", op="global_avgpool")
    s += layer(name="linear", op="linear", out=10)
    return s


def resnet18():
    s = HEADER + "name: resnet18\ninput: [3, 224, 224]\nlayers:\n"
    s += layer(name="conv1", op="conv", out=64, kernel=7, stride=2, padding=3)
    s += layer(name="bn1", op="bn")
    s += layer(name="relu", op="relu")
    s += layer(name="maxpool", op="maxpool", kernel=3, stride=2, padding=1)
    prev, cin = "maxpool", 64
    for i, cout in enumerate([64, 128, 256, 512], start=1):
        for b in range(2):
            stride = 2 if i > 1 and b == 0 else 1
            blk, prev = basic_block(f"layer{i}.{b}", cin, cout, stride, prev)
            s += blk
            cin = cout
    s += layer(name="avgpool", op="global_avgpool")
    s += layer(name="fc", op="linear", out=1000)
    return s


for name, text in [("resnet56", cifar_resnet(56)), ("resnet18", resnet18())]:
    with open(os.path.join(HERE, name + ".yaml"), "w") as f:
        f.write(text)
