"""Float64 mean and standard deviation that never raise on extreme but finite inputs.

``math.fsum`` raises ``OverflowError`` when an intermediate sum leaves the float range and
``x ** 2`` raises for ``|x| > 1.3e154``; one such score must not take its batch down. These
helpers fall back to a scaled computation (divide by the largest magnitude first), which is
exact enough (a few ulps) and finite whenever the true result is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_SAFE_HIGH = 1e150  # squares of deviations up to this stay far below the float maximum
_SAFE_LOW = 1e-150  # ... and far above the smallest subnormal


def mean(values: Sequence[float]) -> float:
    """The mean of a non-empty sequence (correctly rounded unless the sum overflows)."""
    n = len(values)
    try:
        total = math.fsum(values)
    except OverflowError:
        return math.fsum(v / n for v in values)
    return total / n if math.isfinite(total) else math.fsum(v / n for v in values)


def std(values: Sequence[float], centre: float | None = None, ddof: int = 1) -> float:
    """The standard deviation around ``centre`` (default: the mean) with ``ddof`` (1: Bessel).

    Returns 0.0 when there are no more than ``ddof`` values, and ``inf`` only when the
    deviations themselves overflow (values of opposite sign near the float maximum).
    """
    n = len(values)
    if n - ddof <= 0:
        return 0.0
    centre = mean(values) if centre is None else centre
    deviations = [v - centre for v in values]
    scale = max(abs(d) for d in deviations)
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    if _SAFE_LOW < scale < _SAFE_HIGH:
        return math.sqrt(math.fsum(d * d for d in deviations) / (n - ddof))
    return scale * math.sqrt(math.fsum((d / scale) ** 2 for d in deviations) / (n - ddof))


def interpolate(low: float, high: float, fraction: float) -> float:
    """``low + (high - low) * fraction`` without overflowing when ``high - low`` would."""
    if fraction == 0.0:
        return low
    value = low + (high - low) * fraction
    return value if math.isfinite(value) else low * (1.0 - fraction) + high * fraction


def standardize(values: Sequence[float], eps: float, ddof: int = 1) -> list[float]:
    """``(v - mean) / (std + eps)`` for every value, finite for any finite inputs.

    The ratio does not depend on the unit, so values near the float maximum (whose spread
    itself would overflow) are first scaled by an exact power of two, and ``eps`` with them.
    """
    factor = 1.0
    if max(abs(v) for v in values) > 2.0 ** 1000:
        factor = 2.0 ** -24
        values = [v * factor for v in values]
    centre = mean(values)
    spread = std(values, centre, ddof)
    return [(v - centre) / (spread + eps * factor) for v in values]
