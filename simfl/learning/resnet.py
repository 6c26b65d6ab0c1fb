"""CIFAR-style residual networks (ResNet-8, ResNet-18) with BatchNorm and a base width.

He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016), in the CIFAR form
used by FL papers (FuseFL, arXiv 2410.20380, among them): a 3x3 stem convolution at full
resolution (no 7x7 stride-2 stem, no max pool), stages of :class:`BasicBlock` whose first
block halves the resolution and doubles the channels, global average pooling, one Linear.

- ResNet-8: one block per stage, three stages of ``w, 2w, 4w`` channels (1 + 3 * 2 conv
  layers + the classifier = 8 weight layers). ``w = 16`` is the classic CIFAR width.
- ResNet-18: two blocks per stage, four stages of ``w, 2w, 4w, 8w`` channels (``w = 64`` is
  the standard width; the FuseFL scripts use ``w = 20`` for 5 clients).

The modules are laid out for cutting into blocks (see :mod:`simfl.learning.blocks`):
``stem``, then ``blocks`` (every BasicBlock in order), then ``pool`` (average pool +
flatten) and ``classifier``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: BasicBlocks per stage of each depth; stage ``i`` has ``base_width * 2**i`` channels.
STAGE_BLOCKS: dict[str, tuple[int, ...]] = {"resnet8": (1, 1, 1), "resnet18": (2, 2, 2, 2)}

#: Base width (channels of the stem and the first stage) when none is given.
DEFAULT_WIDTH: dict[str, int] = {"resnet8": 16, "resnet18": 64}


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a residual connection.

    Input ``(n, in_channels, h, w)``, output ``(n, channels, h / stride, w / stride)``. The
    shortcut is the identity, or a 1x1 convolution + BatchNorm when the shape changes.
    """

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet: stem, BasicBlocks, average pool, Linear classifier.

    Input ``(n, in_channels, h, w)``, output ``(n, num_outputs)`` logits.

    Parameters
    ----------
    in_channels
        Image channels (3 for CIFAR, 1 for MNIST or digits).
    num_outputs
        Classes.
    stage_blocks
        BasicBlocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
    base_width
        Channels of the stem and the first stage; stage ``i`` has ``base_width * 2**i``.
    """

    def __init__(
        self, in_channels: int, num_outputs: int, stage_blocks: Sequence[int], base_width: int
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, base_width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(base_width),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        channels = base_width
        for stage, count in enumerate(stage_blocks):
            width = base_width * 2**stage
            for i in range(count):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(channels, width, stride))
                channels = width
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(channels, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(n, num_outputs)`` logits of images ``(n, in_channels, h, w)``."""
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(self.pool(x))


def build_resnet(kind: str, in_channels: int, num_outputs: int, base_width: int) -> ResNet:
    """Return a ResNet of depth ``kind`` (``"resnet8"`` or ``"resnet18"``), default init.

    The caller seeds the initialisation (see :func:`simfl.learning.models.build_model`).
    """
    return ResNet(in_channels, num_outputs, STAGE_BLOCKS[kind], base_width)
