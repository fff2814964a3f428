"""IMAGE, MASK, AUDIO and LATENT as node code sees them."""
from __future__ import annotations

from typing import Any, Optional, TypedDict

try:
    import torch
    ImageInput = torch.Tensor
    """An image batch [B, H, W, C], float 0..1."""
    MaskInput = torch.Tensor
    """A mask batch [B, H, W]."""
except ImportError:  # typing only
    ImageInput = Any
    MaskInput = Any


class AudioInput(TypedDict):
    waveform: Any
    """[B, C, T] tensor."""
    sample_rate: int


class LatentInput(TypedDict):
    samples: Any
    """[B, C, H, W] tensor."""
    noise_mask: Optional[Any]
    batch_index: Optional[list[int]]
