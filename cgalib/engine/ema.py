"""An exponential moving average of a model's weights, the model a run saves when it keeps one.

Short runs gain most: the averaged weights smooth the last few hundred noisy steps of a high
learning rate (see ``benchmarks/demo_levers.py`` for what it brings the CPU demo).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

__all__ = ["WeightAverage", "check_decay"]


def check_decay(decay: float, flag: str = "") -> None:
    """Refuse a weight-average decay outside (0, 1), naming the command-line ``flag`` too.

    Raises:
        ValueError: one line, e.g. ``ema_decay must be between 0 and 1 (e.g. 0.998), got 1.0``.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"ema_decay must be between 0 and 1 (e.g. 0.998), got {decay}{flag}")


class WeightAverage:
    """An exponential moving average of a model's parameters and floating-point buffers.

    After optimizer step ``t`` (1, 2, ...) every averaged tensor ``a`` of the model's weight
    ``w`` becomes ``a <- d_t * a + (1 - d_t) * w`` with the decay warmed up as
    ``d_t = min(decay, (1 + t) / (10 + t))``, so the first steps' random weights are forgotten
    quickly. Batch-norm statistics (floating-point buffers) are averaged the same way; integer
    buffers (``num_batches_tracked``) are copied.

    Args:
        model: the trained model; the average starts as a copy of its weights.
        decay: the largest decay, in (0, 1): the average spans about ``1 / (1 - decay)``
            steps (0.998: the last 500).

    Raises:
        ValueError: for a decay outside (0, 1).

    Example:
        >>> net = nn.Linear(1, 1, bias=False)
        >>> _ = net.weight.data.fill_(0.0)
        >>> average = WeightAverage(net, decay=0.5)
        >>> _ = net.weight.data.fill_(1.0)
        >>> average.update(net, step=100)  # d = min(0.5, 101 / 110) = 0.5
        >>> average.state_dict()["weight"].item()
        0.5
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        check_decay(decay)
        self.decay = decay
        self._average = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def decay_at(self, step: int) -> float:
        """The decay of the update after optimizer step ``step`` (warmed up, at most ``decay``).

        Examples:
            >>> WeightAverage(nn.Linear(1, 1), 0.998).decay_at(0)
            0.1
        """
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Move the average towards the model's weights after optimizer step ``step``.

        Args:
            model: the trained model (the same architecture as at construction).
            step: the optimizer steps done, counting this one.
        """
        d = self.decay_at(step)
        for name, value in model.state_dict().items():
            average = self._average[name]
            if average.is_floating_point():
                average.lerp_(value.detach(), 1.0 - d)
            else:
                average.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights, a state dict of the model's keys (the tensors themselves)."""
        return self._average

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore the averaged weights (from [`state_dict()`][state_dict] of a checkpoint).

        Raises:
            ValueError: when the keys differ from the model's (another architecture).
        """
        if set(state) != set(self._average):
            raise ValueError("the saved weight average is of another model (its keys differ)")
        for name, value in state.items():
            self._average[name].copy_(value)

    def reset(self, model: nn.Module) -> None:
        """Start the average again from the model's current weights (a resumed run that
        kept none)."""
        for name, value in model.state_dict().items():
            self._average[name].copy_(value)
