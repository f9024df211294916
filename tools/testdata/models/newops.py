"""A network written the way torchvision's modern ones are (not copied
from them), holding every op acgen's spec gained for them, for
tools/test_torch2spec.py: non-square kernels and strides, pooling with
ceil_mode and count_include_pad=False, ShuffleNetV2's chunk and channel
shuffle (sized by `b, c, h, w = x.size()`), ConvNeXt's LayerNorm2d, its
block (permute, LayerNorm, Linear, GELU, Linear, permute, layer scale),
a hardsigmoid gate times its input, adaptive pooling to 2x3, a
one-tensor torch.cat, and a per-channel scale of the flattened output.
Its input is 3,18,16: sizes where ceil_mode changes the pooled size."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


def channel_shuffle(x, groups):
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.branch2 = nn.Sequential(
            nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(inplace=True),
            nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h),
            nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(inplace=True))

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        out = torch.cat((x1, self.branch2(x2)), dim=1)
        return channel_shuffle(out, 2)


class CNBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(c, c, 7, padding=3, groups=c), Permute([0, 2, 3, 1]), nn.LayerNorm(c, eps=1e-6),
            nn.Linear(c, 4 * c), nn.GELU(approximate="tanh"), nn.Linear(4 * c, c), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.rand(c, 1, 1) + 0.5)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        return x + self.drop(self.layer_scale * self.block(x))


class NewOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, (1, 5), padding=(0, 2)),
                                  nn.Conv2d(8, 8, (3, 1), stride=(2, 1), padding=(1, 0)))
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.norm = LayerNorm2d(8)
        self.block = CNBlock(8)
        self.shuffle = ShuffleUnit(8)
        self.head = nn.AdaptiveAvgPool2d((2, 3))
        self.fc = nn.Linear(8 * 2 * 3, 10)
        self.out_scale = nn.Parameter(torch.rand(10) + 0.5)

    def forward(self, x):
        x = self.avg(self.pool(self.stem(x)))
        x = self.block(self.norm(x))
        x = self.shuffle(torch.cat([x], 1))
        x = F.gelu(x) * F.hardsigmoid(x)
        b, c, h, w = x.shape
        x = self.head(x).reshape(b, -1)
        return self.out_scale * self.fc(x)


def newops():
    return NewOps()
