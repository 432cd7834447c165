#!/usr/bin/python3
"""Traces a small denoiser with the TorchScript signature sparsplat expects (docs/prior.md):
forward(x_t [1,3,H,W], alpha_bar [1], reference [1,3,H,W]) -> x_0 [1,3,H,W], signal space.
Writes <out>/model.pt and the test case <out>/{x_t,reference,alpha_bar,expected}.npy, which
tests/prior/test_networks.cpp feeds to torch::jit::load and compares (<= 1e-5).
Usage: /usr/bin/python3 trace_denoiser.py OUT_DIR"""
import os
import sys

import numpy as np
import torch


class TinyFixer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(6, 16, 3, padding=1)
        self.norm = torch.nn.GroupNorm(4, 16)
        self.conv2 = torch.nn.Conv2d(16, 3, 3, padding=1)
        self.embed = torch.nn.Linear(1, 16)

    def forward(self, x_t, alpha_bar, reference):
        h = self.conv1(torch.cat([x_t, reference], 1))
        h = h + self.embed(torch.log(alpha_bar).view(-1, 1)).view(-1, 16, 1, 1)
        h = torch.nn.functional.silu(self.norm(h))
        return torch.sqrt(alpha_bar).view(-1, 1, 1, 1) * x_t + 0.1 * self.conv2(h)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    model = TinyFixer().eval()
    x_t = torch.randn(1, 3, 20, 28)
    reference = torch.rand(1, 3, 20, 28) * 2 - 1
    alpha_bar = torch.tensor([0.6])
    traced = torch.jit.trace(model, (x_t, alpha_bar, reference))
    traced.save(os.path.join(out, "model.pt"))
    with torch.no_grad():
        expected = traced(x_t, alpha_bar, reference)
    # NumPy wants HWC to match sparsplat's Image layout.
    np.save(os.path.join(out, "x_t.npy"), x_t[0].permute(1, 2, 0).numpy())
    np.save(os.path.join(out, "reference.npy"), reference[0].permute(1, 2, 0).numpy())
    np.save(os.path.join(out, "alpha_bar.npy"), alpha_bar.numpy())
    np.save(os.path.join(out, "expected.npy"), expected[0].permute(1, 2, 0).numpy())


if __name__ == "__main__":
    main()
