"""A data order that can resume mid-epoch: per-epoch shuffles, an offset, per-sample seeds.

Exact resume needs the remaining batches of an interrupted epoch, in the same order and
with the same random draws inside the data set, without loading the batches already
trained on. [`ResumableSampler`][ResumableSampler] shuffles like ``DistributedSampler`` (seed + epoch),
starts an epoch at any offset and gives every sample a seed of its own;
[`SeededDataset`][SeededDataset] seeds Python's, NumPy's and torch's RNGs with it before reading the
sample. So what a sample looks like depends on ``(seed, epoch, index)`` only: not on the
loader worker that reads it, the number of workers, or where a run was interrupted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info
from torch.utils.data.distributed import DistributedSampler

__all__ = ["ResumableSampler", "SeededDataset", "sample_seeds"]


def sample_seeds(seed: int, epoch: int, num_samples: int) -> np.ndarray:
    """The seeds of every sample of one epoch: 32-bit, independent streams per ``(seed, epoch)``.

    Args:
        seed: the run's seed.
        epoch: the epoch (0-based).
        num_samples: the data set's length.

    Returns:
        `(num_samples,)` ``uint32`` seeds, indexed by data set index.

    Examples:
        >>> bool((sample_seeds(0, 1, 4) == sample_seeds(0, 1, 4)).all())
        True
        >>> bool((sample_seeds(0, 1, 4) == sample_seeds(0, 2, 4)).any())
        False
    """
    entropy = [seed % 2**64, epoch]
    return np.random.SeedSequence(entropy).generate_state(num_samples, np.uint32)


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` order that can start an epoch at an offset; yields
    ``(index, seed)`` pairs for [`SeededDataset`][SeededDataset].

    Call [`set_epoch()`][set_epoch] before each epoch (as with ``DistributedSampler``); a resumed
    epoch passes the number of this process's samples already consumed.

    Args:
        dataset: the data set (its length sets the order).
        num_replicas: processes sharing the data.
        rank: this process.
        seed: shuffle seed and base of the per-sample seeds.
        shuffle: shuffle each epoch.
        drop_last: drop the tail that does not divide among the processes.

    Examples:
        >>> s = ResumableSampler(range(8), seed=0)
        >>> s.set_epoch(3)
        >>> full = [i for i, _ in s]
        >>> s.set_epoch(3, start=5)
        >>> [i for i, _ in s] == full[5:], len(s)
        (True, 3)
    """

    def __init__(
        self,
        dataset: Any,
        num_replicas: int = 1,
        rank: int = 0,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = True,
    ) -> None:
        super().__init__(
            dataset, num_replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last
        )
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch's order and skip its first ``start`` samples (of this process).

        Raises:
            ValueError: if ``start`` is negative or past the epoch's end.
        """
        if not 0 <= start <= self.num_samples:
            raise ValueError(f"start must be in 0..{self.num_samples}, got {start}")
        super().set_epoch(epoch)
        self.start = start

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        indices = list(super().__iter__())[self.start :]
        seeds = sample_seeds(self.seed, self.epoch, len(self.dataset))  # type: ignore[arg-type]
        return iter([(int(i), int(seeds[i])) for i in indices])

    def __len__(self) -> int:
        return self.num_samples - self.start


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)


class SeededDataset(Dataset):
    """Read ``dataset[index]`` with Python's, NumPy's and torch's CPU RNGs seeded per sample.

    Keys are the ``(index, seed)`` pairs of [`ResumableSampler`][ResumableSampler]. In a loader worker
    the worker's RNGs are seeded; in the main process (``num_workers=0``) they are seeded
    for the read and restored afterwards, so the training's own random stream is not
    touched. Either way a sample's random draws depend on its seed only.

    Args:
        dataset: any map-style data set.

    Examples:
        >>> class Noisy(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return torch.rand(())
        >>> data = SeededDataset(Noisy())
        >>> bool(data[(2, 7)] == data[(2, 7)]), bool(data[(2, 7)] == data[(2, 8)])
        (True, False)
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        index, seed = key
        if get_worker_info() is not None:
            _seed_all(seed)
            return self.dataset[index]
        saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
        try:
            _seed_all(seed)
            return self.dataset[index]
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])
