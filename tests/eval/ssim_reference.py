#!/usr/bin/python3
"""Reference PSNR / SSIM for tests/eval/test_metrics.cpp, from scikit-image.

Usage: ssim_reference.py IMAGE_A IMAGE_B
Prints "<psnr> <ssim>" with full precision. Images are read with skimage.io, scaled to
[0, 1] in float64 (8-bit / 255, 16-bit / 65535), alpha dropped; SSIM uses the settings
the engine's eval SSIM reproduces (Gaussian window sigma 1.5, population covariance,
data range 1, per channel then averaged; skimage crops 5 border pixels before the mean).
"""
import sys

import numpy as np
import skimage.io
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def load(path):
    im = skimage.io.imread(path)
    scale = 65535.0 if im.dtype == np.uint16 else 255.0
    im = im.astype(np.float64) / scale
    if im.ndim == 2:
        im = im[:, :, None]
    return im[:, :, :3]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    psnr = peak_signal_noise_ratio(a, b, data_range=1.0)
    ssim = structural_similarity(a, b, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    print("%.17g %.17g" % (psnr, ssim))


if __name__ == "__main__":
    main()
