#!/usr/bin/env python3
"""Converts the official LPIPS (v0.1, AlexNet) weights to sparsplat's LPIPS weights file.

sparsplat computes LPIPS in C++ (engine/eval/lpips.h, which also documents the file
format). The weights do not ship with sparsplat; bring the two official files:

  alex.pth                   the LPIPS v0.1 linear layers (PerceptualSimilarity repository,
                             lpips/weights/v0.1/alex.pth; also inside `pip install lpips`)
  alexnet-owt-7be5be79.pth   torchvision's ImageNet AlexNet
                             (https://download.pytorch.org/models/alexnet-owt-7be5be79.pth)

  /usr/bin/python3 scripts/convert_lpips.py --alexnet alexnet-owt-7be5be79.pth \
      --lin alex.pth -o lpips_alex.bin
  sparsplat eval renders/ gt/ --masks masks/ --benchmark spare --lpips lpips_alex.bin

Needs PyTorch (Debian: python3-torch) only to unpickle the two checkpoints.
"""
import argparse
import struct
import sys

import numpy as np

MAGIC = b"SPLPIPS1"
# (out, in, kernel) of AlexNet's five convolutions; torchvision's `features` indices.
LAYERS = [(64, 3, 11), (192, 64, 5), (384, 192, 3), (256, 384, 3), (256, 256, 3)]
FEATURE_INDEX = [0, 3, 6, 8, 10]


def tensor_names():
    """The 15 tensors of the file, in order, with their shapes."""
    out = []
    for k, (co, ci, ks) in enumerate(LAYERS):
        out.append((f"conv{k + 1}.weight", (co, ci, ks, ks)))
        out.append((f"conv{k + 1}.bias", (co,)))
    for k, (co, _, _) in enumerate(LAYERS):
        out.append((f"lin{k + 1}.weight", (1, co, 1, 1)))
    return out


def write_weights(path, tensors):
    """tensors: {name: array}; writes the SPLPIPS1 file (engine/eval/lpips.h)."""
    names = tensor_names()
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(names)))
        for name, shape in names:
            a = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
            if tuple(a.shape) != shape:
                raise SystemExit(f"{name}: shape {tuple(a.shape)}, expected {shape}")
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
            f.write(struct.pack("<I", len(shape)))
            f.write(struct.pack(f"<{len(shape)}I", *shape))
            f.write(a.tobytes())


def _state_dict(path):
    import torch

    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    # DataParallel checkpoints prefix every key with "module.".
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}


def convert(alexnet_state, lin_state):
    tensors = {}
    for k, idx in enumerate(FEATURE_INDEX):
        for part in ("weight", "bias"):
            key = f"features.{idx}.{part}"
            if key not in alexnet_state:
                raise SystemExit(f"AlexNet checkpoint has no '{key}' (expected torchvision's alexnet-owt-7be5be79.pth)")
            tensors[f"conv{k + 1}.{part}"] = alexnet_state[key].detach().cpu().numpy()
    for k in range(5):
        # LPIPS names them lin{k}.model.1.weight (dropout + conv) or lin{k}.model.0.weight.
        keys = [key for key in lin_state if key.startswith(f"lin{k}.") and key.endswith("weight")]
        if len(keys) != 1:
            raise SystemExit(f"LPIPS checkpoint: expected one 'lin{k}.*weight' tensor, found {keys} "
                             "(expected the official v0.1 alex.pth)")
        w = lin_state[keys[0]].detach().cpu().numpy()
        if (w < 0).any():
            print(f"warning: lin{k} has negative weights (the official ones are clamped to >= 0)", file=sys.stderr)
        tensors[f"lin{k + 1}.weight"] = w
    return tensors


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alexnet", required=True, help="torchvision AlexNet checkpoint (alexnet-owt-7be5be79.pth)")
    p.add_argument("--lin", required=True, help="LPIPS v0.1 linear layers (alex.pth)")
    p.add_argument("-o", "--output", required=True, help="sparsplat LPIPS weights file to write")
    a = p.parse_args()
    write_weights(a.output, convert(_state_dict(a.alexnet), _state_dict(a.lin)))
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
