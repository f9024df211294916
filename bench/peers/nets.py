"""The benchmark networks that fixtures/acnet.py does not define.

Everything is built from fixtures/acnet.py's ACBlock and BasicBlock, so the
state_dict keys, the spec conventions (`spec_layers()`) and the fusion are the
ones the fixtures use.

  resnet20   fixtures/acnet.py's CIFAR ResNet-20 (here only for the registry)
  resnet56   CIFAR ResNet-56: the same CifarResNet with 9 blocks per stage
  resnet18   ImageNet ResNet-18 (He et al. 2016, table 1) on 224x224 input:
             7x7/2 plain conv + bn stem, relu, 3x3/2 max pooling (padding 1),
             four stages of two basic blocks (64, 128, 256, 512 channels;
             stride 2 at the start of stages 2-4, 1x1 conv + bn projection
             shortcuts there), every 3x3 conv an ACBlock, global average
             pooling, 1000-way linear.
"""

import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in fixtures/ (or here)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures"))
if FIXTURES not in sys.path:
    sys.path.insert(0, FIXTURES)

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import acnet  # noqa: E402
from acnet import ACBlock, BasicBlock, L  # noqa: E402,F401


def resnet56(num_classes=10):
    return acnet.CifarResNet(widths=(16, 32, 64), blocks=(9, 9, 9), num_classes=num_classes)


class ImageNetResNet(nn.Module):
    """ResNet-18/34-style ImageNet network with ACBlock basic blocks.

    Module names follow torchvision where they can (conv1, bn1, layer1..4,
    fc); the blocks are fixtures/acnet.py's BasicBlock, so a projection
    shortcut is `layerN.0.shortcut.0` (conv) / `.1` (bn) rather than
    torchvision's `downsample`."""

    def __init__(self, blocks=(2, 2, 2, 2), widths=(64, 128, 256, 512), num_classes=1000,
                 in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        in_planes = widths[0]
        for s, (w, n) in enumerate(zip(widths, blocks)):
            layer = []
            for i in range(n):
                stride = 2 if (s > 0 and i == 0) else 1
                layer.append(BasicBlock(in_planes, w, stride))
                in_planes = w
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.nstages = len(widths)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        for s in range(self.nstages):
            x = getattr(self, f"layer{s + 1}")(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch_flatten(x))

    # (conv, bn) module paths outside Sequentials that fuse.py folds
    fold_pairs = [("conv1", "bn1")]

    def spec_layers(self):
        c = self.conv1
        layers = [
            L("conv1", "conv", out=c.out_channels, kernel=c.kernel_size[0], stride=c.stride[0],
              padding=c.padding[0]),
            L("bn1", "bn"),
            L("relu1", "relu"),
            L("maxpool", "maxpool", kernel=3, stride=2, padding=1),
        ]
        prev = "maxpool"
        for s in range(self.nstages):
            for i, block in enumerate(getattr(self, f"layer{s + 1}")):
                p = f"layer{s + 1}.{i}"
                layers += block.spec_layers(p, prev)
                prev = f"{p}.relu2"
        layers.append(L("gap", "global_avgpool"))
        layers.append(L("fc", "linear", out=self.fc.out_features))
        return layers


def torch_flatten(x):
    return x.flatten(1)


def resnet18(num_classes=1000):
    return ImageNetResNet(blocks=(2, 2, 2, 2), num_classes=num_classes)


# name -> (constructor, input shape C,H,W, seed for random init, output layer name,
#          committed checkpoint relative to the repository root or None)
NETS = {
    "resnet20": (acnet.resnet20, (3, 32, 32), 2, "linear", "fixtures/resnet20/model.pth"),
    "resnet56": (resnet56, (3, 32, 32), 56, "linear", None),
    "resnet18": (resnet18, (3, 224, 224), 18, "fc", None),
}
