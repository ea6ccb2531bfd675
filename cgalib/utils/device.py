"""Turn a device name into a usable ``torch.device``, failing clearly when it is absent."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The device to run on, checked to exist on this machine.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` (or a ``torch.device``);
            ``None`` picks CUDA when available, else the CPU.

    Returns:
        The ``torch.device``.

    Raises:
        ValueError: one line naming the device and saying what to use instead, for a
            name PyTorch does not know, a CUDA or MPS device this machine lacks, or a
            CUDA index past the last GPU.

    Examples:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {str(device)!r} needs CUDA, but torch.cuda.is_available() is False "
                f"here (no GPU, or a CPU-only PyTorch build); use 'cpu'"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"device {str(device)!r}: this machine has {count} CUDA GPU(s), "
                f"cuda:0..cuda:{count - 1}"
            )
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device {str(device)!r} (Apple MPS) is not available here; use 'cpu'")
    elif dev.type != "cpu":
        raise ValueError(
            f"unsupported device {str(device)!r}; use 'cpu', 'cuda', 'cuda:N' or 'mps'"
        )
    return dev
