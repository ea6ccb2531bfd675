"""Test helpers importable from every test module (``tests/`` is on ``pythonpath``)."""

from __future__ import annotations

import pytest
import torch

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
