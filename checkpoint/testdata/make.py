"""Writes the small checkpoints the checkpoint package's tests read.

Run from the repository root with the python3 that has torch (1.13 here):

    /usr/bin/python3 checkpoint/testdata/make.py

Every file is a few KB. The Go tests never run Python: these files are
checked in. Rerunning reproduces every file byte for byte except legacy.pth
and torchscript.pt, whose storage keys and code torch derives from object
ids; the tests only need those two to be refused. Expected values are written as float64 bit patterns by torch's
own conversion (tensor.double()), so the Go float16/bfloat16 conversion is
checked against PyTorch, not against itself.
"""
import collections
import io
import json
import os
import struct
import zipfile

import torch
import torch.nn as nn

OUT = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, bias=False)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


def tiny_model():
    m = Tiny()
    with torch.no_grad():
        m.bn.running_mean.normal_()
        m.bn.running_var.uniform_(0.5, 2)
    m.bn.num_batches_tracked += 2
    return m


def f16_patterns():
    """Bit patterns covering every class: zeros, subnormals, normals at the
    extremes, inf, quiet and signalling NaN, both signs."""
    pats = [0x0000, 0x8000, 0x0001, 0x8001, 0x0200, 0x03ff, 0x0400, 0x0401,
            0x3bff, 0x3c00, 0x3c01, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00,
            0x7c01, 0xfe00, 0x7fff, 0x3555, 0xc000]
    pats += list(range(0, 0x10000, 257))
    return sorted(set(pats))


def bf16_patterns():
    pats = [0x0000, 0x8000, 0x0001, 0x8001, 0x007f, 0x0080, 0x3f80, 0x7f7f,
            0xff7f, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0xffc0, 0x3eaa, 0xc000]
    pats += list(range(0, 0x10000, 263))
    return sorted(set(pats))


def from_bits(pats, dtype):
    return torch.tensor([p - 0x10000 if p >= 0x8000 else p for p in pats],
                        dtype=torch.int16).view(dtype)


def special_f32():
    vals = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1.0, -2.5,
            3.4028234663852886e38, 1.1754943508222875e-38, 1e-45, -1e-45]
    return torch.tensor(vals, dtype=torch.float32)


def variety():
    """One state_dict with every layout the reader must handle."""
    sd = collections.OrderedDict()
    for k, v in tiny_model().state_dict().items():
        sd[k] = v
    base = torch.arange(40, dtype=torch.float32).reshape(5, 8)
    sd["view.transposed"] = base.t()                 # stride (1, 8)
    sd["view.slice"] = base[1:4, 2::3]               # offset 10, stride (8, 3)
    sd["view.expand"] = torch.ones(3, 1).expand(3, 4)  # stride 0
    sd["view.row"] = base[2]                         # offset 16, shares base's storage
    sd["special.f32"] = special_f32()
    sd["special.f16"] = from_bits(f16_patterns(), torch.float16)
    sd["special.bf16"] = from_bits(bf16_patterns(), torch.bfloat16)
    sd["special.f64"] = torch.tensor([0.1, -0.0, float("inf"), 5e-324], dtype=torch.float64)
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["ints"] = torch.arange(6, dtype=torch.int64).reshape(2, 3)
    sd["bools"] = torch.tensor([True, False])
    return sd


def bits64(t):
    return ["%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]
            for x in t.double().contiguous().reshape(-1).tolist()]


def expected(sd):
    out = {}
    for k, v in sd.items():
        e = {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
        if v.is_floating_point():
            e["bits"] = bits64(v)
        out[k] = e
    return out


ST = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
      torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        header[name] = {"dtype": ST[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def save(name, obj, **kw):
    torch.save(obj, os.path.join(OUT, name), **kw)


def main():
    sd = variety()
    save("variety.pth", sd)
    save("variety_proto4.pth", sd, pickle_protocol=4)
    write_safetensors(os.path.join(OUT, "variety.safetensors"), sd)
    with open(os.path.join(OUT, "variety.json"), "w") as f:
        json.dump(expected(sd), f, indent=0, sort_keys=True)

    m = tiny_model()
    tsd = m.state_dict()
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(torch.randn(2, 2, 5, 5)).sum().backward()
    opt.step()
    save("tiny.pth", tsd)
    save("wrapped_model.pth", {"model": tsd, "epoch": 3, "best_acc": 91.5,
                               "optimizer": opt.state_dict()})
    save("wrapped_state_dict.pth", {"state_dict": tsd, "epoch": 7, "arch": "tiny"})
    save("dataparallel.pth", nn.DataParallel(m).state_dict())
    save("parameters.pth", m.state_dict(keep_vars=True))  # _rebuild_parameter
    save("legacy.pth", tsd, _use_new_zipfile_serialization=False)
    save("whole_model.pth", m)  # pickles the classes: must be refused
    torch.jit.save(torch.jit.script(m), os.path.join(OUT, "torchscript.pt"))
    buf = io.BytesIO()
    save("deflated.pth", tsd)
    # The same archive re-zipped with deflate, as a user's zip tool might.
    src = zipfile.ZipFile(os.path.join(OUT, "deflated.pth"))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # fixed dates keep the file reproducible
            out = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            dst.writestr(out, src.read(info.filename), zipfile.ZIP_DEFLATED)
    with open(os.path.join(OUT, "deflated.pth"), "wb") as f:
        f.write(buf.getvalue())
    write_safetensors(os.path.join(OUT, "tiny.safetensors"),
                      {k: v for k, v in tsd.items() if not k.endswith("num_batches_tracked")})


main()
