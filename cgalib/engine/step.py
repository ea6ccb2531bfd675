"""One optimizer step of the training loop: batch to device, augment, forward under autocast,
the non-finite guard, backward through the gradient scaler, clipping, the update."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cgalib.engine.guards import NonFiniteLossError
from cgalib.utils.image import to_float_image
from cgalib.utils.precision import autocast

if TYPE_CHECKING:
    from cgalib.engine.state import TrainState

__all__ = ["train_step"]


def _to_device(targets: Sequence[dict], device: torch.device) -> list[dict]:
    """Targets on ``device``; numpy arrays (from loader workers) become tensors again."""

    def move(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = torch.from_numpy(v)
        return v.to(device, non_blocking=True) if torch.is_tensor(v) else v

    return [{k: move(v) for k, v in t.items()} for t in targets]


def train_step(
    state: TrainState, images: torch.Tensor, targets: Sequence[dict]
) -> dict[str, float]:
    """Train the state's model on one batch: one optimizer step.

    The batch moves to the state's device; the state's augmentation (run without
    gradients) or, without one, a conversion to float in 0..1 prepares the images, in the
    settings' memory format; the train-mode forward runs under the settings' autocast
    (``amp``). Every loss term is checked before the backward pass, which goes through the
    gradient scaler (fp16), with gradient-norm clipping when ``clip_grad_norm`` is set, and
    the moving average of the weights follows the update when the run keeps one. The
    schedule and ``state.step`` are left to [`TrainState.advance()`][cgalib.engine.TrainState.advance].

    Args:
        state: the training state (model, optimizer, scaler, settings, augmentation).
        images: the batch `(B, 3, H, W)`, ``uint8`` or float in 0..1.
        targets: one dict per image; tensors (or numpy arrays) are moved to the device.

    Returns:
        The loss terms of the step, as floats (the forward's dict, in its order).

    Raises:
        NonFiniteLossError: when a loss term is NaN or infinite, naming the step, the terms
            and the checkpoint kept; nothing is updated.

    Example:
        >>> import tempfile
        >>> from torch import nn
        >>> from cgalib.engine import TrainSettings, TrainState
        >>> class Fit(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w = nn.Parameter(torch.zeros(()))
        ...     def forward(self, images, targets):
        ...         return {"fit": (images.mean() - self.w).square()}
        >>> settings = TrainSettings(epochs=1, batch_size=2, lr=0.1, warmup_steps=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     state = TrainState(Fit(), settings, d)
        ...     row = train_step(state, torch.full((2, 3, 4, 4), 255, dtype=torch.uint8), [{}, {}])
        >>> row, round(state.model.w.item(), 3)
        ({'fit': 1.0}, 0.2)
    """
    device, settings = state.context.device, state.settings
    optimizer, scaler = state.optimizer, state.scaler
    images = images.to(device, non_blocking=True)
    targets = _to_device(targets, device)
    if state.augment is not None:
        with torch.no_grad():
            images, targets = state.augment(images, targets)
    else:
        images = to_float_image(images)
    images = images.contiguous(memory_format=settings.memory_format)
    with autocast(device, settings.amp or "fp32"):
        losses = state.net(images, targets)
    row = dict(zip(losses, torch.stack([v.detach().float() for v in losses.values()]).tolist()))
    bad = {k: v for k, v in row.items() if not math.isfinite(v)}
    if bad:
        raise NonFiniteLossError(
            f"non-finite loss at step {state.step + 1}: "
            f"{', '.join(f'{k}={v}' for k, v in bad.items())}; {state.kept}; lower the "
            "learning rate, enable gradient clipping or check the data of this batch, "
            f"and {state.again}"
        )
    loss = sum(losses.values())
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if settings.clip_grad_norm:
        scaler.unscale_(optimizer)
        params = [p for p in state.model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, settings.clip_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    if state.ema is not None:
        state.ema.update(state.model, state.step + 1)
    return row
