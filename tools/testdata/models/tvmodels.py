"""torchvision's classification networks for tools/test_torch2spec.py, as
torch2spec's --model takes them: `tvmodels:resnet18` is
torchvision.models.get_model("resnet18") (torchvision's defaults: auxiliary
classifiers and all).

Networks are built with torch.nn.init's functions made no-ops: their
weights come from --weights (the test's randomize), and torchvision's own
initialisation (ConvNeXt-L's trunc_normal_ takes half a minute) would be
thrown away."""
import contextlib
import math
import warnings

import torch
import torch.nn as nn
import torchvision

# Vision transformers and their relatives: not convolutional networks.
TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def names():
    """The convolutional classifiers torchvision lists, in its order."""
    return [n for n in torchvision.models.list_models(module=torchvision.models) if not n.startswith(TRANSFORMERS)]


@contextlib.contextmanager
def no_init():
    saved = {k: v for k, v in vars(nn.init).items() if k.endswith("_") and not k.startswith("_") and callable(v)}
    for k in saved:
        setattr(nn.init, k, lambda t, *a, **kw: t)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(nn.init, k, v)


def build(name):
    with no_init(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GoogLeNet's and Inception's note on their future init default
        return torchvision.models.get_model(name, weights=None)


def __getattr__(name):
    if name in names():
        return lambda: build(name)
    raise AttributeError(name)


def randomize(model, gen):
    """Random weights: convolutions and linear layers He-normal over their
    fan-in, biases N(0, 0.1); BatchNorm's running mean N(0, 0.1), running
    variance U(0.5, 1.5); every other parameter (BatchNorm's and
    LayerNorm's affine weights, ConvNeXt's layer scale) U(0.5, 1.5), or
    N(0, 0.1) for a bias. Nothing is left at a value (1, 0, 1e-6) that
    would hide a mistake."""
    with torch.no_grad():
        for mod in model.modules():
            for pname, p in mod.named_parameters(recurse=False):
                if pname == "bias":
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
                elif isinstance(mod, (nn.Conv2d, nn.Linear)) and pname == "weight":
                    fan_in = math.prod(p.shape[1:])
                    p.copy_(torch.randn(p.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                else:
                    p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            if isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.track_running_stats:
                mod.running_mean.copy_(torch.randn(mod.running_mean.shape, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) + 0.5)


def scale_output(model, x):
    """Divides the last convolution or linear layer (the classifier) by the
    largest output on x, so the outputs are of order 1; returns that
    largest output before."""
    last = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
    with torch.no_grad():
        s = float(model(x).abs().max())
        last.weight.div_(s)
        if last.bias is not None:
            last.bias.div_(s)
    return s
