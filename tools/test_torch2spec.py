#!/usr/bin/python3
"""Tests tools/torch2spec.py as a user runs it, beside their own code: a
package named acnet laid out as the official code's, networks written the
way the official code and today's users write them
(testdata/models/official_like.py), checkpoints saved the ways trainers
save them. Needs torch and h5py (Debian: python3-torch python3-h5py):

    /usr/bin/python3 tools/test_torch2spec.py

.ci/run runs it when that Python has torch, and skips it otherwise (CI
never depends on torch).
"""
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "testdata", "models")
sys.path.insert(0, MODELS)
import official_like  # noqa: E402  (after the path it lives on)


def torch2spec(*args):
    """Runs torch2spec from the models' directory, as a user runs it from
    their repository; returns exit code, stdout, stderr and the spec."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "net.yaml")
        p = subprocess.run([sys.executable, os.path.join(HERE, "torch2spec.py"), *args, "--out", out],
                           cwd=MODELS, capture_output=True, text=True)
        spec = ""
        if os.path.exists(out):
            with open(out) as f:
                spec = f.read()
    return p.returncode, p.stdout, p.stderr, spec


class Torch2Spec(unittest.TestCase):
    def assertOneLineEach(self, stderr, *wants):
        self.assertNotIn("Traceback", stderr)
        lines = stderr.strip().splitlines()
        self.assertEqual(len(lines), len(wants), stderr)
        for line, want in zip(lines, wants):
            self.assertTrue(line.startswith("torch2spec: "), line)
            self.assertIn(want, line)

    def test_official_layouts(self):
        for model, layers in (("wrn", "13 layers, 1 ACBlocks"), ("quick", "10 layers, 2 ACBlocks"),
                              ("modern", "14 layers, 0 ACBlocks")):
            code, stdout, stderr, spec = torch2spec("--model", "official_like:" + model, "--input", "3,16,16")
            self.assertEqual(code, 0, stderr)
            self.assertIn(layers, stdout)
            self.assertIn(f"name: {model}\n", spec)

    def test_every_unsupported_node_in_one_run(self):
        code, _, stderr, _ = torch2spec("--model", "official_like:exotic", "--input", "3,16,16")
        self.assertEqual(code, 1)
        self.assertOneLineEach(stderr, "act: GELU", "up: Upsample", "elu: ELU", "repeat", "mul")

    def test_user_mistakes_are_one_line(self):
        for args, want in (
                (["--model", "official_like:broken"], "broken() raised ValueError: a bug in the user's factory"),
                (["--model", "official_like:nosuch"], "official_like has no nosuch"),
                (["--model", "nomodule:build"], "cannot import nomodule"),
                (["--model", "official_like"], "want MODULE:CALLABLE"),
                (["--model", "official_like:wrn", "--input", "3x16x16"], "want C,H,W")):
            args = args if "--input" in args else args + ["--input", "3,16,16"]
            code, _, stderr, _ = torch2spec(*args)
            self.assertEqual(code, 1, args)
            self.assertOneLineEach(stderr, want)

    def test_checkpoints(self):
        model = official_like.wrn()
        sd = model.state_dict()
        with tempfile.TemporaryDirectory() as tmp:
            def path(name):
                return os.path.join(tmp, name)
            torch.save(model, path("whole.pth"))
            torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}}, path("trainer.pth"))
            torch.save({k: v for k, v in sd.items() if k != "fc.bias"}, path("short.pth"))
            with h5py.File(path("finish.hdf5"), "w") as f:  # the official save_hdf5's layout
                for k, v in sd.items():
                    f.create_dataset(k.replace("/", "+"), data=v.numpy())
                f.create_dataset("deps", data=[8, 8, 16])
            for name in ("trainer.pth", "finish.hdf5"):
                code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path(name))
                self.assertEqual(code, 0, name + ": " + stderr)
            code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path("whole.pth"))
            self.assertOneLineEach(stderr, "save its weights instead: torch.save(model.state_dict(), path)")
            code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path("short.pth"))
            self.assertOneLineEach(stderr, "key fc.bias missing from the file")


if __name__ == "__main__":
    unittest.main()
