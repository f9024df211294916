"""torch2spec's checkpoints: the state_dict in a file, found where acgen
finds it, and loaded into the user's model with its metadata (the
per-module versions some models' load hooks read, as torchvision's
MNASNet does)."""

import collections

import torch
import torch.nn as nn

from _acgen_torch2spec_ops import Unsupported

WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net", "network", "module", "weights", "params")


def first_line(e):
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:300]


def load_weights(path):
    """The state_dict in a checkpoint: at the top, or under a trainer's
    key; HDF5 files (the official ACNet code's final format) are read with
    h5py, '+' read back as '/', and their non-weight arrays ("deps") left
    out. A DataParallel's `module.` is stripped, from the keys and from
    the metadata torch.save kept beside them."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head == b"\x89HDF\r\n\x1a\n":
        try:
            import h5py
            import numpy as np
        except ImportError:
            raise Unsupported(f"--weights {path}: an HDF5 file; reading it needs h5py (Debian: python3-h5py)")
        with h5py.File(path, "r") as f:
            return collections.OrderedDict((k.replace("+", "/"), torch.from_numpy(np.asarray(f[k]))) for k in f.keys()
                                           if k != "deps" and isinstance(f[k], h5py.Dataset))
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise Unsupported(f"--weights {path}: torch.load cannot read it: {first_line(e)}")
    if isinstance(obj, nn.Module):
        raise Unsupported(f"--weights {path}: a whole model saved with torch.save(model); "
                          "save its weights instead: torch.save(model.state_dict(), path)")
    if not isinstance(obj, dict):
        raise Unsupported(f"--weights {path}: holds a {type(obj).__name__}, not a state_dict")
    if not any(isinstance(v, torch.Tensor) for v in obj.values()):
        for k in WRAPPER_KEYS:
            if isinstance(obj.get(k), dict):
                obj = obj[k]
                break
        else:
            raise Unsupported(f"--weights {path}: a dict of {', '.join(map(str, list(obj)[:8]))}, none a state_dict "
                              f"(looked under {', '.join(WRAPPER_KEYS)}): save model.state_dict()")
    meta = getattr(obj, "_metadata", None)
    sd = collections.OrderedDict((k, v) for k, v in obj.items() if isinstance(v, torch.Tensor))
    if sd and all(k.startswith("module.") for k in sd):
        sd = collections.OrderedDict((k[len("module."):], v) for k, v in sd.items())
        if meta is not None:
            meta = {("" if k == "module" else k[len("module."):]): v for k, v in meta.items()
                    if k == "module" or k.startswith("module.")}
    if isinstance(meta, dict):
        sd._metadata = meta
    return sd


def load_into(model, sd, path):
    """load_state_dict, each mismatch one line. The model's own load
    hooks run here: the caller names the module when one raises."""
    got = model.state_dict()
    missing = [k for k in got if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in got]
    shapes = [f"{k}: {list(sd[k].shape)} in the file, {list(got[k].shape)} in the model"
              for k in sd if k in got and sd[k].shape != got[k].shape]
    problems = [f"--weights {path}: key {k} missing from the file" for k in missing[:5]]
    problems += [f"--weights {path}: key {k} is not in the model" for k in unexpected[:5]]
    problems += [f"--weights {path}: {s}" for s in shapes[:5]]
    if problems:
        raise Unsupported("\n".join(problems))
    model.load_state_dict(sd, strict=False)
