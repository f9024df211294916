"""torchvision's classification networks passed through tools/acnetify.py,
for tools/test_torchvision.py, as torch2spec's --model takes them:
`tvacnets:resnet18` is acnetify(tvmodels.build("resnet18"), example input),
every KxK convolution that feeds a BatchNorm an ACBlock. The weights come
from --weights; the placeholder ones acnetify checks its swap with are
tvmodels.randomize's (tvmodels.build leaves them uninitialised)."""
import importlib.util
import os

import torch

import tvmodels

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("_tvacnets_acnetify", os.path.join(HERE, "..", "..", "acnetify.py"))
acnetify_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acnetify_module)


def side(name):
    """The input's height and width: Inception-v3's stem and reductions
    need 75x75 at least; the others take 64x64 (AlexNet's and VGG's
    adaptive pools then grow 1x1 and 2x2 maps to 6x6 and 7x7)."""
    return 75 if name == "inception_v3" else 64


def build(name):
    model = tvmodels.build(name)
    gen = torch.Generator().manual_seed(0)
    tvmodels.randomize(model, gen)
    s = side(name)
    return acnetify_module.acnetify(model, torch.randn(2, 3, s, s, generator=gen))


def __getattr__(name):
    if name in tvmodels.names():
        return lambda: build(name)
    raise AttributeError(name)
