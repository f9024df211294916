"""Models torch2spec must fail on, leaving nothing at --out, for
tools/test_torch2spec.py: one whose spec cannot reproduce it, one whose
own forward raises deep inside, one whose load hook raises."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BatchDependent(nn.Module):
    """Decides on the batch size, which the trace (batch 2) bakes in and
    the check (batch 3) does not: torch2spec's own check fails."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.conv(x)
        if x.size(0) > 2:
            x = F.relu(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 10)  # a width mistake: the features are 8 wide

    def forward(self, x):
        return self.fc(torch.flatten(x, 1))


class ShapeBug(nn.Module):
    """Its own forward raises, inside features.1.fc."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.AdaptiveAvgPool2d(1)), Head())

    def forward(self, x):
        return self.features(x)


class Versioned(nn.Module):
    """Reads its version from the state_dict's metadata when loading, as
    torchvision's MNASNet does; raises without it."""
    _version = 2

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        version = local_metadata.get("version", None)
        if version not in (1, 2):
            raise ValueError(f"version should be 1 or 2, not {version}")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1), 1))


def batch_dependent():
    return BatchDependent()


def shape_bug():
    return ShapeBug()


def versioned():
    return Versioned()
