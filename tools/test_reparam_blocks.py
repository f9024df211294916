#!/usr/bin/python3
"""Tests torch2spec's recognition of the re-parameterisation blocks after
RepVGG (tools/reparam_blocks.py, reparam_sums.py) as a user meets it: each
model below is written into a scratch package, torch2spec runs on it as a
command, and its spec, notes and refusals are checked. The families' own
fixtures (fixtures/make_reparam_fixtures.py) cover the blocks that convert;
these are the ones that must not pass for what they are not.

    /usr/bin/python3 tools/test_reparam_blocks.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")

MODELS = textwrap.dedent('''
    import torch
    import torch.nn as nn
    from reparam_families import MobileOneBlock, QARepVGGBlock, QARepVGGBlockV2, conv_bn


    def init(model):
        torch.manual_seed(0)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.normal_(0, 0.3)
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2)
        return model.eval()


    class YOLOv6Like(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = QARepVGGBlock(3, 8, 3, 2, 1)
            self.block = QARepVGGBlockV2(8, 8)

        def forward(self, x):
            return self.block(self.stem(x))


    class FakeRep(nn.Module):
        """RepVGG's names, not its structure: a ReLU in rbr_1x1."""
        def __init__(self):
            super().__init__()
            self.rbr_dense = conv_bn(8, 8, 3, 1, 1, 1)
            self.rbr_1x1 = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU())

        def forward(self, x):
            return self.rbr_dense(x) + self.rbr_1x1(x)


    class Stopped(nn.Module):
        """A re-parameterisation block by its look, with a ReLU in one branch."""
        def __init__(self):
            super().__init__()
            self.a = conv_bn(8, 8, 3, 1, 1, 1)
            self.b = conv_bn(8, 8, 1, 1, 0, 1)
            self.c = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU())

        def forward(self, x):
            return self.a(x) + self.b(x) + self.c(x)


    class PadAfterBN(nn.Module):
        """A branch that pads a BatchNorm's output: not one convolution."""
        def __init__(self):
            super().__init__()
            self.a = conv_bn(8, 8, 3, 1, 1, 1)
            self.b = nn.Sequential(nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3, 1, 1, bias=False))

        def forward(self, x):
            return self.a(x) + self.b(x)


    class Doubled(MobileOneBlock):
        """MobileOne's parts, another forward: the scale branch twice."""
        def forward(self, x):
            out = self.rbr_skip(x) + self.rbr_scale(x) + self.rbr_scale(x)
            for b in self.rbr_conv:
                out = out + b(x)
            return self.activation(out)


    def net(*blocks):
        return init(nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), *blocks))


    def yolov6():
        return init(YOLOv6Like())


    def yolov6_deploy():
        m = yolov6()
        for b in m.modules():
            if isinstance(b, QARepVGGBlock):
                b.switch_to_deploy()
        return m


    def fake():
        return net(FakeRep())


    def stopped():
        return net(Stopped())


    def pad_after_bn():
        return net(PadAfterBN())


    def doubled():
        return net(Doubled(8, 8, 3, 1, 1, num_conv_branches=2))
''')


class Torch2SpecReparam(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        with open(os.path.join(cls.dir, "reparam_user.py"), "w") as f:
            f.write(MODELS)
        shutil.copy(os.path.join(FIXTURES, "reparam_families.py"), cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def run_t2s(self, fn):
        out = os.path.join(self.dir, fn + ".yaml")
        p = subprocess.run([sys.executable, os.path.join(HERE, "torch2spec.py"), "--model", "reparam_user:" + fn,
                            "--input", "3,12,12", "--out", out], cwd=self.dir, capture_output=True, text=True)
        self.assertNotIn("Traceback", p.stderr)
        spec = None
        if p.returncode == 0:
            with open(out) as f:
                spec = yaml.safe_load(f)
        return p, spec

    def ops(self, spec):
        return [l["op"] for l in spec["layers"]]

    def test_qarepvgg_is_not_repvgg(self):
        p, spec = self.run_t2s("yolov6")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ops(spec), ["qarepvgg", "relu", "qarepvgg", "relu"])
        self.assertEqual(spec["layers"][2].get("version"), 2)

    def test_qarepvgg_deploy_form(self):
        p, spec = self.run_t2s("yolov6_deploy")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ops(spec), ["conv", "bn", "relu"] * 2)
        self.assertEqual(spec["layers"][0]["prefix"], "stem.rbr_reparam")

    def test_repvgg_lookalike_is_traced_through(self):
        p, spec = self.run_t2s("fake")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: 1: has a RepVGG block's parts, but its rbr_1x1 is a Sequential, not a conv and a BatchNorm: "
                      "traced through as plain layers", p.stdout)
        self.assertNotIn("repvgg", self.ops(spec))

    def test_sum_stopped_by_a_branch(self):
        p, spec = self.run_t2s("stopped")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: 1: the sum at add_1 is not one convolution: its branches start from 0 by linear steps "
                      "but one from 1.c.1, which is not a linear step or is read elsewhere; kept as separate layers", p.stdout)
        self.assertNotIn("linear_sum", self.ops(spec))

    def test_padding_after_a_batchnorm(self):
        p, spec = self.run_t2s("pad_after_bn")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: 1: the sum at add is not one convolution: the branch through 1.b.0 pads (conv 1.b.1) "
                      "what its earlier steps computed, which is not zero outside the input", p.stdout)
        self.assertNotIn("linear_sum", self.ops(spec))

    def test_block_with_another_forward(self):
        p, spec = self.run_t2s("doubled")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: 1: has a MobileOneBlock's parts, but it does not compute what acgen's layers for it do", p.stdout)
        self.assertIn("its branches call 1.rbr_scale.bn more than once", p.stdout)
        self.assertNotIn("mobileone", self.ops(spec))


if __name__ == "__main__":
    unittest.main()
