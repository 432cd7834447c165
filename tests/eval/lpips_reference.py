#!/usr/bin/env python3
"""Reference LPIPS (v0.1 AlexNet structure) in PyTorch, float64, with random weights.

Run by tests/eval/test_lpips.cpp: writes OUT/weights.bin (through scripts/convert_lpips.py's
writer, so the converter's file layout is tested too), OUT/converted.bin (the same weights
under the official checkpoints' key names, through the converter's key mapping), image
pairs OUT/<name>_a.npy and _b.npy (float32 H x W x 3 in [0, 1]) and OUT/reference.json with
the distance and the five tap terms of every pair. Exit code 77 when PyTorch or NumPy is
missing (the test then skips).
Usage: lpips_reference.py SOURCE_DIR OUT_DIR
"""
import json
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"skipping: {e} (apt install python3-torch python3-numpy)", file=sys.stderr)
    sys.exit(77)

source_dir, out_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(source_dir, "scripts"))
import convert_lpips  # noqa: E402

SHIFT = torch.tensor([-0.030, -0.088, -0.188], dtype=torch.float64).view(1, 3, 1, 1)
SCALE = torch.tensor([0.458, 0.448, 0.450], dtype=torch.float64).view(1, 3, 1, 1)
STRIDES = [4, 1, 1, 1, 1]
PADS = [2, 2, 1, 1, 1]


def random_weights(seed):
    g = torch.Generator().manual_seed(seed)
    t = {}
    for k, (co, ci, ks) in enumerate(convert_lpips.LAYERS):
        sd = (2.0 / (ci * ks * ks)) ** 0.5
        t[f"conv{k + 1}.weight"] = (torch.randn(co, ci, ks, ks, generator=g) * sd).float()
        t[f"conv{k + 1}.bias"] = (torch.rand(co, generator=g) * 0.1).float()
        t[f"lin{k + 1}.weight"] = (torch.randn(1, co, 1, 1, generator=g) * 0.1).abs().float()
    return t


def taps(t, x):
    """The five ReLU outputs of AlexNet's features for x in [0, 1], NCHW float64."""
    h = ((2 * x - 1) - SHIFT) / SCALE
    out = []
    for k in range(5):
        if k in (1, 2):
            h = F.max_pool2d(h, kernel_size=3, stride=2)
        h = F.relu(F.conv2d(h, t[f"conv{k + 1}.weight"].double(), t[f"conv{k + 1}.bias"].double(),
                            stride=STRIDES[k], padding=PADS[k]))
        out.append(h)
    return out


def lpips_terms(t, a, b):
    terms = []
    for k, (fa, fb) in enumerate(zip(taps(t, a), taps(t, b))):
        na = fa / (torch.sqrt(torch.sum(fa ** 2, dim=1, keepdim=True)) + 1e-10)
        nb = fb / (torch.sqrt(torch.sum(fb ** 2, dim=1, keepdim=True)) + 1e-10)
        d = F.conv2d((na - nb) ** 2, t[f"lin{k + 1}.weight"].double())
        terms.append(float(d.mean()))
    return terms


def main():
    os.makedirs(out_dir, exist_ok=True)
    t = random_weights(7)
    convert_lpips.write_weights(os.path.join(out_dir, "weights.bin"), {k: v.numpy() for k, v in t.items()})
    # The same weights under the official checkpoints' key names, through the converter.
    alexnet = {}
    lin = {}
    for k, idx in enumerate(convert_lpips.FEATURE_INDEX):
        alexnet[f"features.{idx}.weight"] = t[f"conv{k + 1}.weight"]
        alexnet[f"features.{idx}.bias"] = t[f"conv{k + 1}.bias"]
        lin[f"lin{k}.model.1.weight"] = t[f"lin{k + 1}.weight"]
    alexnet["classifier.1.weight"] = torch.zeros(4, 4)  # ignored
    convert_lpips.write_weights(os.path.join(out_dir, "converted.bin"), convert_lpips.convert(alexnet, lin))
    rng = np.random.default_rng(11)
    pairs = []
    # (name, height, width, kind): the 31-pixel minimum, odd sizes, a 4:3 frame, a noisy copy.
    for name, h, w, kind in [("min", 31, 31, "random"), ("odd", 75, 97, "random"), ("frame", 72, 96, "smooth"),
                             ("noisy", 64, 80, "noisy")]:
        if kind == "smooth":
            yy, xx = np.mgrid[0:h, 0:w]
            a = np.stack([0.5 + 0.4 * np.sin(xx / 7.0 + c) * np.cos(yy / 5.0 - c) for c in range(3)], axis=2)
            b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
        elif kind == "noisy":
            a = rng.random((h, w, 3))
            b = np.clip(a + 0.05 * rng.standard_normal(a.shape), 0, 1)
        else:
            a, b = rng.random((h, w, 3)), rng.random((h, w, 3))
        a, b = a.astype(np.float32), b.astype(np.float32)
        np.save(os.path.join(out_dir, f"{name}_a.npy"), a)
        np.save(os.path.join(out_dir, f"{name}_b.npy"), b)
        ta = torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1)[None]
        tb = torch.from_numpy(b.astype(np.float64)).permute(2, 0, 1)[None]
        terms = lpips_terms(t, ta, tb)
        pairs.append({"name": name, "lpips": sum(terms), "taps": terms})
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump({"pairs": pairs}, f, indent=1)


if __name__ == "__main__":
    main()
