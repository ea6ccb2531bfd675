"""DARK: the sub-cell position of a heatmap peak by one Newton step on the log-heatmap.

Distribution-Aware coordinate Representation of Keypoints (Zhang et al., CVPR 2020): near
its peak, a heatmap trained towards a Gaussian is modelled as one, so its logarithm ``L`` is
a quadratic and one Newton step from the argmax cell ``(px, py)``,
``offset = -H^-1 g`` (gradient ``g`` and Hessian ``H`` of ``L`` by finite differences),
lands on the Gaussian's centre. The settings, each measured on trained models by
``benchmarks/decoding.py`` (see ``docs/benchmarks.md``):

- **blur** ([`blur_heatmaps()`][blur_heatmaps]): smooth the heatmap with a Gaussian before the
  log, its maximum kept (mmpose's ``gaussian_blur``, 11x11 by default there), so noise
  does not steer the derivatives;
- **stencil**: the step of the Hessian's second differences, 1 (``L(x+1) - 2 L(x) +
  L(x-1)``) or 2 (``(L(x+2) - 2 L(x) + L(x-2)) / 4``, mmpose's); the gradient and the mixed
  term always use the neighbours at 1;
- **border**: where the stencil would leave the map, ``"skip"`` (no shift; mmpose) or
  ``"clamp"`` (read the edge cell instead of the missing one);
- **max_shift**: the offset clamped to ``[-max_shift, max_shift]`` cells per axis, or not
  at all (``None``; mmpose).

The step is taken only where ``H`` is negative definite (a maximum); elsewhere the offset
is 0. mmpose takes it wherever ``det H != 0``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ["BORDER_RULES", "STENCILS", "blur_heatmaps", "blur_sigma", "dark_offsets"]

STENCILS = (1, 2)
"""Steps of the Hessian's second differences [`dark_offsets()`][dark_offsets] accepts."""

BORDER_RULES = ("skip", "clamp")
"""What [`dark_offsets()`][dark_offsets] does where its stencil leaves the map."""


def blur_sigma(kernel: int) -> float:
    """The Gaussian sigma of a ``kernel`` x ``kernel`` blur: OpenCV's rule for sigma 0,
    ``0.3 * ((kernel - 1) / 2 - 1) + 0.8`` (2.0 for mmpose's 11).

    OpenCV (hence mmpose) uses fixed binomial-like taps for ``kernel <= 7``; these sampled
    Gaussians differ from them by at most 0.03 per tap.

    Examples:
        >>> blur_sigma(11), round(blur_sigma(3), 2)
        (2.0, 0.8)
    """
    return 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8


def _check_kernel(kernel: int) -> int:
    if isinstance(kernel, bool) or int(kernel) != kernel or kernel < 0 or (
        kernel > 1 and kernel % 2 == 0
    ):
        raise ValueError(f"blur kernel must be 0 (no blur) or an odd positive size, got {kernel!r}")
    return int(kernel)


def blur_heatmaps(heatmaps: torch.Tensor, kernel: int) -> torch.Tensor:
    """Gaussian blur of each heatmap with its maximum kept (mmpose's ``gaussian_blur``).

    A separable ``kernel`` x ``kernel`` Gaussian of sigma [`blur_sigma()`][blur_sigma]
    (normalised taps), zeros outside the map, then each map rescaled so its maximum equals
    the original's. A blurred Gaussian is a wider Gaussian with the same centre, so a
    Gaussian peak keeps its position.

    Args:
        heatmaps: non-negative heatmaps (probabilities).
        kernel: odd blur size; 0 or 1 returns the heatmaps unchanged.

    Returns:
        The blurred heatmaps, in the input's dtype.

    Shape:
        - heatmaps: `(N, K, h, w)`
        - output: `(N, K, h, w)`

    Examples:
        >>> spike = torch.zeros(1, 1, 5, 5)
        >>> spike[0, 0, 2, 2] = 0.8
        >>> out = blur_heatmaps(spike, 3)
        >>> out.shape, round(out.max().item(), 4), out[0, 0].argmax().item()
        (torch.Size([1, 1, 5, 5]), 0.8, 12)
    """
    kernel = _check_kernel(kernel)
    if heatmaps.dim() != 4:
        raise ValueError(f"blur_heatmaps expects (N, K, h, w), got {tuple(heatmaps.shape)}")
    if kernel <= 1 or heatmaps.numel() == 0:
        return heatmaps
    n, k, h, w = heatmaps.shape
    radius = kernel // 2
    offsets = torch.arange(kernel, dtype=heatmaps.dtype, device=heatmaps.device) - radius
    taps = torch.exp(-offsets.square() / (2 * blur_sigma(kernel) ** 2))
    taps = taps / taps.sum()
    # the separable blur as weighted sums of shifted maps: the same zero-padded sums as a
    # 1-channel conv2d, which oneDNN runs about 50x slower on the CPU (35 ms for 20 x 17
    # maps of 64 x 64 on 2 cores, against under 1 ms here)
    padded = F.pad(heatmaps, (radius, radius))
    x = sum(taps[i] * padded[..., i : i + w] for i in range(kernel))
    padded = F.pad(x, (0, 0, radius, radius))
    x = sum(taps[i] * padded[..., i : i + h, :] for i in range(kernel))
    top = heatmaps.amax((-2, -1), keepdim=True)
    blurred_top = x.amax((-2, -1), keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)
    return x * (top / blurred_top)


def _check_step(stencil: int, border: str, max_shift: float | None) -> None:
    """Refuse a stencil, border rule or shift limit [`dark_offsets()`][dark_offsets] cannot use."""
    if stencil not in STENCILS or isinstance(stencil, bool):
        raise ValueError(f"stencil must be one of {STENCILS}, got {stencil!r}")
    if border not in BORDER_RULES:
        raise ValueError(f"border must be one of {BORDER_RULES}, got {border!r}")
    if max_shift is not None and (isinstance(max_shift, bool) or not max_shift > 0):
        raise ValueError(f"max_shift must be positive or None, got {max_shift!r}")


def _at(
    flat: torch.Tensor, px: torch.Tensor, py: torch.Tensor, dx: int, dy: int, w: int, h: int
) -> torch.Tensor:
    """Values of the `(N, K, h * w)` maps at ``(px + dx, py + dy)``, clamped to the map."""
    x = (px + dx).clamp(0, w - 1)
    y = (py + dy).clamp(0, h - 1)
    return flat.gather(-1, (y * w + x)[..., None])[..., 0]


def dark_offsets(
    log_heatmaps: torch.Tensor,
    px: torch.Tensor,
    py: torch.Tensor,
    stencil: int = 1,
    border: Literal["skip", "clamp"] = "skip",
    max_shift: float | None = 0.5,
) -> torch.Tensor:
    """The Newton step ``-H^-1 g`` of the log-heatmaps at integer peaks, in cells.

    With ``L`` the log-heatmap and ``s`` the stencil: ``g = ((L(x+1) - L(x-1)) / 2, ...)``,
    ``H_xx = (L(x+s) - 2 L(x) + L(x-s)) / s^2`` (likewise ``H_yy``), ``H_xy = (L(x+1, y+1) -
    L(x+1, y-1) - L(x-1, y+1) + L(x-1, y-1)) / 4``. On the log of a sampled Gaussian
    (a quadratic) every stencil is exact, so the step lands on its centre.

    Args:
        log_heatmaps: the log of the (blurred) heatmaps.
        px: peak column of each map (``0 <= px < w``), integer.
        py: peak row of each map, integer.
        stencil: 1 or 2 (see the module notes).
        border: ``"skip"``: offset 0 where a stencil point lies outside the map;
            ``"clamp"``: read the nearest edge cell there.
        max_shift: the offset limit per axis in cells, or ``None`` for none.

    Returns:
        ``(dx, dy)`` per map, 0 where no step is taken (outside the border rule, or ``H``
        not negative definite).

    Shape:
        - log_heatmaps: `(N, K, h, w)`
        - px, py: `(N, K)`
        - output: `(N, K, 2)`

    Examples:
        >>> u, v = torch.arange(9.0), torch.arange(7.0)[:, None]
        >>> log_p = (-((u - 4.3) ** 2 + (v - 2.8) ** 2) / 4)[None, None]  # (1, 1, 7, 9)
        >>> px, py = torch.tensor([[4]]), torch.tensor([[3]])
        >>> [round(d, 4) for d in dark_offsets(log_p, px, py, stencil=2)[0, 0].tolist()]
        [0.3, -0.2]
    """
    _check_step(stencil, border, max_shift)
    if log_heatmaps.dim() != 4 or px.shape != log_heatmaps.shape[:2] or py.shape != px.shape:
        raise ValueError(
            f"dark_offsets expects log_heatmaps (N, K, h, w) and peaks (N, K), got "
            f"{tuple(log_heatmaps.shape)}, {tuple(px.shape)} and {tuple(py.shape)}"
        )
    n, k, h, w = log_heatmaps.shape
    flat = log_heatmaps.reshape(n, k, h * w)

    def at(dx: int, dy: int) -> torch.Tensor:
        return _at(flat, px, py, dx, dy, w, h)

    s = stencil
    c = at(0, 0)
    gx, gy = (at(1, 0) - at(-1, 0)) / 2, (at(0, 1) - at(0, -1)) / 2
    hxx = (at(s, 0) - 2 * c + at(-s, 0)) / (s * s)
    hyy = (at(0, s) - 2 * c + at(0, -s)) / (s * s)
    hxy = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4
    det = hxx * hyy - hxy**2
    ok = (hxx < 0) & (det > 1e-12)
    if border == "skip":
        ok = ok & (px >= s) & (px < w - s) & (py >= s) & (py < h - s)
    safe = torch.where(ok, det, torch.ones_like(det))
    shift = torch.stack([-(hyy * gx - hxy * gy) / safe, -(hxx * gy - hxy * gx) / safe], -1)
    if max_shift is not None:
        shift = shift.clamp(-max_shift, max_shift)
    return torch.where(ok[..., None], shift, torch.zeros_like(shift))
