"""Normalisations written out in PyTorch operations rather than called as
modules, as ConvNeXt-V2's and UniRepLKNet's code writes them (written
here anew, not copied), for tools/test_torch2spec.py: a LayerNorm over
the channels of N,C,H,W maps (mean, squared deviations, sqrt), GRN on a
channels-last tensor (torch.norm over H and W, over the mean norm plus
eps), with and without beta, nn.LayerNorm on the pooled [N, C] vector
and a layer scale viewed [1, C, 1, 1]; and variants torch2spec must
refuse: a norm over one spatial dimension only, eps outside the square
root, a beta the model holds but never adds."""
import torch
import torch.nn as nn


class ChannelsFirstNorm(nn.Module):
    def __init__(self, c, eps=1e-6, eps_outside=False):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(c) + 0.5)
        self.bias = nn.Parameter(torch.randn(c) * 0.3)
        self.eps, self.eps_outside = eps, eps_outside

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        if self.eps_outside:
            x = (x - u) / (torch.sqrt(s) + self.eps)
        else:
            x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class GRN(nn.Module):
    def __init__(self, c, beta=True, add_beta=True, dims=(1, 2), eps=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.randn(1, 1, 1, c) * 0.5)
        if beta:
            self.beta = nn.Parameter(torch.randn(1, 1, 1, c) * 0.3)
        self.add_beta, self.dims, self.eps = beta and add_beta, dims, eps

    def forward(self, x):
        g = torch.norm(x, p=2, dim=self.dims, keepdim=True)
        n = g / (g.mean(dim=-1, keepdim=True) + self.eps)
        y = (self.gamma * n + 1) * x
        return y + self.beta if self.add_beta else y


class Net(nn.Module):
    def __init__(self, grn=None, norm=None):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 2, 1)
        self.norm1 = norm or ChannelsFirstNorm(8)
        self.fc1 = nn.Linear(8, 24)
        self.act = nn.GELU()
        self.grn = grn or GRN(24)
        self.fc2 = nn.Linear(24, 8)
        self.gamma = nn.Parameter(torch.rand(8) + 0.5)
        self.norm = nn.LayerNorm(8, eps=1e-6)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = self.norm1(self.stem(x))
        y = self.grn(self.act(self.fc1(x.permute(0, 2, 3, 1))))
        y = self.fc2(y).permute(0, 3, 1, 2)
        x = x + self.gamma.view(1, -1, 1, 1) * y
        return self.head(self.norm(x.mean([-2, -1])))


def net():
    return Net()


def net_grn_eps():
    return Net(grn=GRN(24, eps=1e-5))


def net_no_beta():
    return Net(grn=GRN(24, beta=False))


def net_beta_unused():
    return Net(grn=GRN(24, add_beta=False))


def net_one_dim():
    return Net(grn=GRN(24, dims=(1,)))


def net_eps_outside():
    return Net(norm=ChannelsFirstNorm(8, eps_outside=True))
