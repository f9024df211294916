"""The torchvision networks of the ImageNet-size benchmarks, as torch2spec reads them.

Each builder returns the architecture with torchvision's own (seeded) default
initialisation; export.py randomises the BatchNorm statistics and saves the
weights, and torch2spec loads them back (--weights) before tracing:

    cd bench/imagenet && /usr/bin/python3 ../../tools/torch2spec.py \\
        --model tvnets:resnet50 --weights model.pth --input 3,224,224 --out net.yaml

  resnet18, resnet50   torchvision.models.resnet18/50, 1000 classes
  mobilenet_v2         torchvision.models.mobilenet_v2, 1000 classes
  vgg16                torchvision.models.vgg16 (no BatchNorm) with its
                       AdaptiveAvgPool2d((7, 7)) replaced by nn.Identity:
                       torch2spec cannot write an adaptive pool to 7x7 yet,
                       and at 224x224 the features are already 7x7, where
                       that pool is the identity (export.py checks that the
                       two give the same output). Its parameters, and so
                       its checkpoint, are torchvision's.
"""

import torch
import torch.nn as nn
import torchvision

INPUT = (3, 224, 224)


def _seeded(ctor, seed):
    torch.manual_seed(seed)
    return ctor(weights=None, num_classes=1000).eval()


def resnet18():
    return _seeded(torchvision.models.resnet18, 18)


def resnet50():
    return _seeded(torchvision.models.resnet50, 50)


def mobilenet_v2():
    return _seeded(torchvision.models.mobilenet_v2, 2)


def vgg16_with_pool():
    """torchvision's VGG-16 as it is, adaptive pool included."""
    return _seeded(torchvision.models.vgg16, 16)


def vgg16():
    """VGG-16 without the pool that is the identity at 224x224."""
    m = vgg16_with_pool()
    m.avgpool = nn.Identity()
    return m


# name -> builder; the benchmark names are "tv_" + these.
BUILDERS = {"resnet18": resnet18, "resnet50": resnet50, "mobilenet_v2": mobilenet_v2, "vgg16": vgg16}
