import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from cgalib.engine import ResumableSampler, SeededDataset, sample_seeds


class _Noisy(Dataset):
    """Each read draws from Python's, NumPy's and torch's global RNGs."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return torch.tensor([i, random.random(), np.random.rand(), torch.rand(()).item()])


def test_order_is_distributed_samplers_and_offsets_skip_the_head():
    reference = DistributedSampler(range(10), 2, 1, shuffle=True, seed=3, drop_last=True)
    reference.set_epoch(4)
    sampler = ResumableSampler(range(10), 2, 1, seed=3)
    sampler.set_epoch(4)
    pairs = list(sampler)
    assert [i for i, _ in pairs] == list(reference) and len(sampler) == 5
    seeds = sample_seeds(3, 4, 10)
    assert all(s == seeds[i] for i, s in pairs)
    sampler.set_epoch(4, start=3)
    assert list(sampler) == pairs[3:] and len(sampler) == 2
    sampler.set_epoch(5)
    assert len(sampler) == 5 and list(sampler) != pairs  # the offset applies to one epoch


def test_bad_offset_is_refused():
    sampler = ResumableSampler(range(4))
    with pytest.raises(ValueError, match=r"start must be in 0..4, got 5"):
        sampler.set_epoch(0, start=5)


def test_main_process_reads_leave_the_global_rngs_alone():
    data = SeededDataset(_Noisy())
    states = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()
    first = data[(3, 11)]
    assert random.getstate() == states[0]
    assert (np.random.get_state()[1] == states[1]).all()
    assert torch.equal(torch.get_rng_state(), states[2])
    assert torch.equal(data[(3, 11)], first) and not torch.equal(data[(3, 12)], first)


@pytest.mark.parametrize("offset", [0, 2])
def test_samples_do_not_depend_on_workers_or_offset(offset):
    def epoch(workers, start):
        sampler = ResumableSampler(_Noisy(), seed=1)
        sampler.set_epoch(2, start=start)
        loader = DataLoader(SeededDataset(_Noisy()), batch_size=2, sampler=sampler,
                            num_workers=workers)  # fmt: skip
        return torch.cat(list(loader))

    in_main = epoch(0, 0)
    assert torch.equal(epoch(2, 2 * offset), in_main[2 * offset :])
