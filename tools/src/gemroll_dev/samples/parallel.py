"""Running a roll's item builders in worker processes, costly items first."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")
Progress = Callable[[int, int], None]


def run_all(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], costs: Sequence[float],
            workers: int | None = None, progress: Progress | None = None) -> list[T]:
    """`fn(*task)` for every task, results in task order. In worker processes (spawned: safe
    whatever threads the caller runs), the costliest first so that the pool's tail is short;
    in this process for one worker or a handful of tasks."""
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(tasks) < 4:
        results = []
        for n, task in enumerate(tasks, start=1):
            results.append(fn(*task))
            if progress:
                progress(n, len(tasks))
        return results
    done: dict[int, T] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        order = sorted(range(len(tasks)), key=lambda i: -costs[i])
        futures = {pool.submit(fn, *tasks[i]): i for i in order}
        for n, future in enumerate(as_completed(futures), start=1):
            done[futures[future]] = future.result()
            if progress:
                progress(n, len(tasks))
    return [done[i] for i in range(len(tasks))]


def unique_name(base: str, ext: str, taken: set[str]) -> str:
    """`base.ext`, or `base(2).ext`, `base(3).ext`... as a phone names a second file."""
    name, n = f"{base}.{ext}", 1
    while name.lower() in taken:
        n += 1
        name = f"{base}({n}).{ext}"
    taken.add(name.lower())
    return name
