"""Networks written the way the official ACNet code and today's users
write them (not copied from it), for tools/test_torch2spec.py: widths from
a numpy array, dropout in its functional spelling, SE blocks that size
their pooling from the data, reshapes spelled every common way."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from acnet.acnet_builder import ACBlock  # the user's own package named acnet


class WRNBlock(nn.Module):
    """Pre-activation wide residual block with F.dropout(x, p, self.training)."""

    def __init__(self, c, drop):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = ACBlock(c, c)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.drop = drop

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = F.dropout(F.relu(self.bn2(y)), p=self.drop, training=self.training)
        return x + self.conv2(y)


class WRN(nn.Module):
    def __init__(self):
        super().__init__()
        deps = np.array([8, 8, 16])  # numpy widths, as the official builders take
        self.stem = nn.Conv2d(3, deps[0], 3, padding=1, bias=False)
        self.block = WRNBlock(deps[1], 0.3)
        self.bn = nn.BatchNorm2d(deps[1])
        self.fc = nn.Linear(deps[1], 10)

    def forward(self, x):
        x = self.block(self.stem(x))
        x = F.relu(self.bn(x))
        x = F.avg_pool2d(x, kernel_size=x.size(3))  # the whole map, sized from the data
        x = x.view(x.shape[0], -1)
        return self.fc(x)


class Quick(nn.Module):
    """Cifar-quick-like: pools called with keywords, .view(-1, n), .squeeze()."""

    def __init__(self):
        super().__init__()
        self.conv1 = ACBlock(3, 8)
        self.conv2 = ACBlock(8, 8)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), kernel_size=2, stride=2)
        x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2)
        x = x.view(-1, 8 * 4 * 4)
        x = F.relu(self.fc1(x)).squeeze()
        return self.fc2(x)


class SE(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.down = nn.Conv2d(c, c // r, 1)
        self.up = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        s = F.avg_pool2d(x, kernel_size=x.size(3))
        s = torch.sigmoid(self.up(F.relu(self.down(s))))
        return x * s


class Modern(nn.Module):
    """What a user writes today: the activations acgen lacked, an SE block."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.act1 = nn.LeakyReLU(0.1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.act2 = nn.Hardswish()
        self.se = SE(8, 2)
        self.act3 = nn.SiLU()
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.act2(self.conv2(self.act1(self.conv1(x))))
        x = self.act3(self.se(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def wrn():
    return WRN()


def quick():
    return Quick()


def modern():
    return Modern()


def broken():
    raise ValueError("a bug in the user's factory")


class Exotic(nn.Module):
    """Parts acgen's spec does not have, for the one-run listing of all:
    each refused for its own reason, and what reads a refused part not
    reported again (the add)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.Mish()
        self.up = nn.Upsample(scale_factor=2)
        self.elu = nn.ELU()
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.act(self.conv(x))
        y = self.elu(self.up(x))
        z = x.repeat(1, 1, 2, 2)
        x = (y + z) * 2.0
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def exotic():
    return Exotic()


class SELinear(nn.Module):
    """The other common SE block: Linear layers on the pooled [N, C],
    viewed back as [N, C, 1, 1] and expanded; then an in-place ReLU whose
    input is read again (PyTorch's readers see the new values)."""

    def __init__(self, c=8, r=2):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(c, c // r), nn.ReLU(inplace=True), nn.Linear(c // r, c), nn.Sigmoid())
        self.head = nn.Linear(c, 10)

    def forward(self, x):
        x = self.conv(x)
        b, c, _, _ = x.size()
        y = self.fc(self.pool(x).view(b, c)).view(b, c, 1, 1)
        x = x * y.expand_as(x)
        z = x.relu_()
        return self.head((x + z).mean((2, 3)))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x, y):
        return self.conv(x) + y


def se_linear():
    return SELinear()


def two_inputs():
    return TwoInputs()
