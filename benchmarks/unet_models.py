"""Keras's "image segmentation with a U-Net-like architecture" example (Oxford pets), the
``unet`` workload of ``bench_workloads.py``, in npgrad and in PyTorch.

An Xception-style encoder (a stride-2 Conv2D stem, then three blocks of two
SeparableConv2D + BatchNormalization + ReLU, an overlapping MaxPooling2D(3, 2, same) and a
strided 1x1 Conv2D shortcut added back), a decoder of four blocks (two Conv2DTranspose +
BatchNormalization + ReLU, UpSampling2D, an upsampled 1x1 Conv2D shortcut), and a per-pixel
3x3 Conv2D softmax over ``CLASSES`` classes, trained with sparse categorical cross-entropy.
The example's 160x160 images are 64x64 here; the layers and widths are its own. The
npgrad model is ``examples/segmentation.py``'s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

SIZE, CLASSES = 64, 3
DOWN, UP = (64, 128, 256), (256, 128, 64, 32)


def npgrad_unet(npgrad):
    """The network of ``examples/segmentation.py`` (Keras's), at this workload's size."""
    from segmentation import unet

    return unet(SIZE, CLASSES, DOWN, UP)


def torch_unet(torch):
    """The same net in PyTorch (NCHW; the softmax is in its cross-entropy loss)."""
    nn = torch.nn

    def bn(c):  # Keras defaults: epsilon 1e-3, momentum 0.99 (PyTorch counts 1 - momentum)
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    def separable(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1)]

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), bn(32), nn.ReLU())
            self.down, self.up, c = nn.ModuleList(), nn.ModuleList(), 32
            for f in DOWN:
                body = [nn.ReLU(), *separable(c, f), bn(f), nn.ReLU(), *separable(f, f), bn(f),
                        nn.MaxPool2d(3, 2, 1)]
                self.down.append(nn.ModuleList([nn.Sequential(*body), nn.Conv2d(c, f, 1, 2)]))
                c = f
            for f in UP:
                body = [nn.ReLU(), nn.ConvTranspose2d(c, f, 3, padding=1), bn(f), nn.ReLU(),
                        nn.ConvTranspose2d(f, f, 3, padding=1), bn(f), nn.Upsample(scale_factor=2)]
                shortcut = [nn.Upsample(scale_factor=2), nn.Conv2d(c, f, 1)]
                self.up.append(nn.ModuleList([nn.Sequential(*body), nn.Sequential(*shortcut)]))
                c = f
            self.head = nn.Conv2d(c, CLASSES, 3, padding=1)

        def forward(self, x):
            x = self.stem(x)
            for body, shortcut in (*self.down, *self.up):
                x = body(x) + shortcut(x)
            return self.head(x)

    return UNet()
