"""Makes model.pth: a 100M-parameter linear layer whose weight is an
expand() view (stride 0) of one column, so the file is a few KB while the
network it describes is not: what tests/memory_test.go holds acgen's
memory budget to. Run with Debian's /usr/bin/python3 (python3-torch)."""
import torch

torch.manual_seed(0)
w = torch.randn(2048, 1).expand(2048, 3 * 128 * 128)
assert w.stride() == (1, 0)
torch.save({"fc.weight": w, "fc.bias": torch.randn(2048)}, "model.pth")
