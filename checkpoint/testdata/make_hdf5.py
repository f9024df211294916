"""Writes checkpoint/testdata/hdf5/: small HDF5 files made by real h5py
(Debian's python3-h5py) in the layouts the checkpoint package reads, and
some it refuses, with the values it must find.

Run from the repository root:

    /usr/bin/python3 checkpoint/testdata/make_hdf5.py

want.json maps each readable file to its datasets: dtype, shape and the
float64 bit patterns numpy's own conversion gives, so the Go reader is
checked against h5py, not against itself. Reruns give the same bytes,
except for the libver="latest" files, whose group headers carry times.
"""
import json
import os
import struct

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hdf5")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)

def arr(shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)

files = {
    # h5py's defaults, as the official save_hdf5 writes (keys' '/' as '+').
    "plain.h5": dict(kw={}, sets={
        "conv.weight": arr((4, 3, 3, 3)),
        "bn.running_var": arr(4, np.float64),
        "half": arr(5, np.float16),
        "bigendian": arr((2, 3), np.dtype(">f4")),
        "scalar": np.float32(2.5),
        "empty": np.zeros((0, 3), np.float32),
        "layer1+0+conv.weight": arr((2, 2, 1, 1)),
        "grp/sub.weight": arr(3),
        "deps": np.array([16, 32, 64]),
        "count": np.array([1, 2], np.int32),
    }),
    # Chunked with every filter h5py offers besides lzf, edge chunks.
    "chunked.h5": dict(kw={}, sets={
        "gzip": (arr((5, 6), np.float64), dict(chunks=(2, 4), compression="gzip", shuffle=True, fletcher32=True)),
        "conv": (arr((8, 3, 3, 3)), dict(chunks=(3, 2, 2, 3), compression="gzip", compression_opts=9)),
        "raw": (arr((7, 5)), dict(chunks=(3, 5))),
        "deep": (arr(600), dict(chunks=(1,))),  # a B-tree of more than one level
    }),
    # The same filters in a file small enough to seed the fuzzer.
    "filters.h5": dict(kw={}, sets={
        "w": (arr((3, 5)), dict(chunks=(2, 3), compression="gzip", shuffle=True, fletcher32=True)),
    }),
    "userblock.h5": dict(kw=dict(userblock_size=512), sets={"w": arr((3, 2))}),
    # The newest format: superblock 3, OHDR headers, link messages.
    "latest.h5": dict(kw=dict(libver="latest"), sets={
        "w": arr((3, 4)),
        "one": (arr((4, 5)), dict(chunks=(4, 5), compression="gzip")),
        "g/x": arr(2, np.float64),
    }),
}
refused = {
    "dense.h5": dict(kw=dict(libver="latest"), sets={"k%d" % i: arr(2) for i in range(12)}),
    "lzf.h5": dict(kw={}, sets={"w": (arr((4, 4)), dict(chunks=(2, 2), compression="lzf"))}),
    "fixedarray.h5": dict(kw=dict(libver="latest"), sets={"w": (arr((4, 4)), dict(chunks=(2, 2)))}),
}

def bits(a):
    return ["%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in np.asarray(a, np.float64).ravel()]

def write(name, spec):
    path = os.path.join(OUT, name)
    with h5py.File(path, "w", **spec["kw"]) as f:
        for k, v in spec["sets"].items():
            opts = {}
            if isinstance(v, tuple):
                v, opts = v
            f.create_dataset(k, data=v, **opts)

want = {}
for name, spec in files.items():
    write(name, spec)
    got = {}
    for k, v in spec["sets"].items():
        if isinstance(v, tuple):
            v = v[0]
        v = np.asarray(v)
        if name == "plain.h5" and k == "deps":
            continue
        entry = {"dtype": v.dtype.newbyteorder("<").name, "shape": list(v.shape)}
        if v.dtype.kind == "f":
            entry["bits"] = bits(v)
        got[k.replace("+", "/")] = entry
    want[name] = got
for name, spec in refused.items():
    write(name, spec)
with open(os.path.join(OUT, "want.json"), "w") as f:
    json.dump(want, f, indent=0, sort_keys=True)
    f.write("\n")
print("wrote", sorted(os.listdir(OUT)))
