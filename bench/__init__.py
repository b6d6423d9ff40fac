"""Benchmarks (not tests): ``python -m bench [NAME ...] --json``.

Every module ``bench/<topic>.py`` exposes ``BENCHMARKS = {"name": callable}``; each callable takes
``quick: bool`` and returns a dict holding at least ``seconds`` (the median of several runs) and
its own figures. Use ``median_seconds`` to time.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def machine() -> dict:
    try:
        import torch

        threads = torch.get_num_threads()
        cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        threads, cuda = None, None
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "torch_threads": threads, "cuda": cuda}
