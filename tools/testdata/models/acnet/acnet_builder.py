"""A user's package named acnet, laid out as the official code's is
(acnet/acnet_builder.py): torch2spec must not shadow it with its own."""
import torch.nn as nn


class ACBlock(nn.Module):
    def __init__(self, cin, cout, k=3):
        super().__init__()
        self.square_conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.square_bn = nn.BatchNorm2d(cout)
        self.ver_conv = nn.Conv2d(cin, cout, (k, 1), padding=(k // 2, 0), bias=False)
        self.ver_bn = nn.BatchNorm2d(cout)
        self.hor_conv = nn.Conv2d(cin, cout, (1, k), padding=(0, k // 2), bias=False)
        self.hor_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.square_bn(self.square_conv(x)) + self.ver_bn(self.ver_conv(x)) + self.hor_bn(self.hor_conv(x))
