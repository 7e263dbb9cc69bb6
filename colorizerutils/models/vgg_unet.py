"""U-Net whose encoder is ImageNet VGG16 (Simonyan & Zisserman 2015): L in, ab out.

Every strong automatic colorizer starts from ImageNet features rather than learning them from a few dozen images:
DeOldify puts a pretrained ResNet in a U-Net, DDColor a ConvNeXt, Iizuka et al. fuse classification features into
the decoder. Here the gray frame goes into VGG16's ``features`` as three equal channels (the sRGB gray that L
stands for, ImageNet-normalised); a light decoder upsamples bilinearly and fuses the relu4_3 and relu3_3 skips (and
relu2_2, relu1_2 for ``out_stride`` 1) to predict ab, in [-1,1] (tanh).

The encoder's weights come from :func:`colorizerutils.weights.backbone` (torchvision's when reachable, else the
offline copy). Training keeps it frozen for ``TrainConfig.encoder_frozen_steps`` and then fine-tunes it at
``encoder_lr_mult`` times the learning rate (:class:`colorizerutils.objectives.Objective`).

Input ``l`` (B,1,H,W) normalised to [-1,1], any H,W (padded to a multiple of 16 and cropped back); output
(B,out_channels,H/out_stride,W/out_stride).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

# VGG16 ``features`` indices after which the skips are taken: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
_TAPS = (3, 8, 15, 22, 29)
_TAP_CH = (64, 128, 256, 512, 512)


def _block(cin: int, cout: int, dropout: float = 0.0) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
              nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class VGG16UNet(nn.Module):
    def __init__(self, *, out_channels: int = 2, width: int = 256, dropout: float = 0.0, out_stride: int = 4,
                 tanh: bool = True, pretrained: bool = True):
        super().__init__()
        if out_stride not in (1, 4):
            raise ValueError(f"out_stride must be 1 or 4 for the VGG16 encoder, got {out_stride}")
        import torchvision

        if pretrained:
            from ..weights import backbone

            self.encoder = backbone("vgg16", init_draws=True)   # the decoder is initialised after it
            self.weights_source = self.encoder.weights_source
        else:   # weights come from a checkpoint
            self.encoder = torchvision.models.vgg16(weights=None).features
        self.encoder = self.encoder[:_TAPS[-1] + 1].requires_grad_(True)
        self.multiple, self.out_stride, self.tanh = 16, out_stride, tanh
        self.mid = _block(_TAP_CH[4], width, dropout)                                  # 1/16
        self.up4 = _block(width + _TAP_CH[3], width, dropout)                          # 1/8
        self.up3 = _block(width + _TAP_CH[2], width // 2)                              # 1/4
        if out_stride == 1:
            self.up2 = _block(width // 2 + _TAP_CH[1], width // 4)                     # 1/2
            self.up1 = _block(width // 4 + _TAP_CH[0], width // 8)                     # 1/1
        self.head = nn.Conv2d(width // 2 if out_stride == 4 else width // 8, out_channels, 1)
        from ..weights import IMAGENET_MEAN, IMAGENET_STD

        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def encoder_parameters(self):
        return self.encoder.parameters()

    def _rgb(self, l: torch.Tensor) -> torch.Tensor:
        """Normalised L -> the ImageNet-normalised sRGB gray image it stands for (3 equal channels)."""
        from ..color import denormalize_l, lab_to_rgb

        L = denormalize_l(l.float())
        gray = lab_to_rgb(torch.cat([L, torch.zeros_like(L), torch.zeros_like(L)], 1))[:, :1]
        return (gray.expand(-1, 3, -1, -1) - self.mean) / self.std

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        x = F.pad(self._rgb(l), (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        skips = []
        for i, layer in enumerate(self.encoder):
            x = layer(x)
            if i in _TAPS:
                skips.append(x)
        up = lambda y, s: torch.cat([F.interpolate(y, size=s.shape[-2:], mode="bilinear", align_corners=False), s], 1)
        y = self.mid(skips[4])
        y = self.up4(up(y, skips[3]))
        y = self.up3(up(y, skips[2]))
        if self.out_stride == 1:
            y = self.up1(up(self.up2(up(y, skips[1])), skips[0]))
        y = self.head(y)[..., :-(-h // self.out_stride), :-(-w // self.out_stride)]
        return torch.tanh(y) if self.tanh else y
