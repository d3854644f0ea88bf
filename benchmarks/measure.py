"""Timing helpers for the benchmarks: repeated calls, percentiles, one printed row."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def repeat_ms(
    fn: Callable[[], object],
    runs: int,
    warmup: int = 20,
    between: Callable[[], object] | None = None,
) -> list[float]:
    """Milliseconds per call of `fn`; `between` runs after each call, untimed."""
    timings = []
    for n in range(warmup + runs):
        start = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - start) * 1000
        if n >= warmup:
            timings.append(elapsed)
        if between is not None:
            between()
    return timings


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def row(
    name: str, values: list[float], floor: list[float] | None = None, target: float | None = None
) -> None:
    p50 = statistics.median(values)
    line = f"{name:<44} p50 {p50:8.2f} ms   p95 {percentile(values, 95):8.2f} ms"
    if floor is not None:
        ratio = p50 / statistics.median(floor)
        verdict = (
            ""
            if target is None
            else f"  (target <= {target:.2f}x: {'met' if ratio <= target else 'NOT met'})"
        )
        line += f"   = {ratio:.2f}x floor{verdict}"
    print(line, flush=True)
