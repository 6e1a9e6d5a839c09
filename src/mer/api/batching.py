"""Micro-batching: concurrent ``/v1/predict`` requests share one model call.

Why: a model call has a fixed cost (Python dispatch through eight pipelines) that dwarfs the per-row cost, so at a
few hundred requests per second scoring them one by one would queue. A single consumer task takes the first waiting
request, optionally waits ``max_wait_s`` for company, drains whatever else is queued (up to ``max_rows`` rows), and
scores the lot in one call on a dedicated thread — the event loop keeps accepting requests meanwhile, and those
become the next batch. With ``max_wait_s = 0`` the batching is purely adaptive: an idle server answers at once, a
busy one batches exactly what arrived during the previous call.

A batch that fails is retried request by request, so one bad request cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

Meta = TypeVar("Meta")
# score(rows) -> (meta shared by the batch, one result per row)
Scorer = Callable[[np.ndarray], tuple[Any, list[Any]]]
T = TypeVar("T")


@dataclass
class _Job:
    rows: np.ndarray
    future: asyncio.Future = field(repr=False)


@dataclass(frozen=True)
class Scored(Generic[Meta]):
    meta: Meta
    results: list[Any]
    batch_rows: int  # rows in the model call that produced these results


class MicroBatcher:
    """Queue rows, score them in shared calls; ``await batcher.submit(rows)`` gives this request's results."""

    def __init__(self, score: Scorer, max_rows: int = 256, max_wait_s: float = 0.0,
                 on_batch: Callable[[int, int], None] | None = None):
        self.score = score
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        self.on_batch = on_batch  # (requests, rows) of each model call, for the metrics
        self._pending: deque[_Job] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mer-model")

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._consume(), name="mer-micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._pending:
            _settle(self._pending.popleft().future, exception=RuntimeError("server shutting down"))
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, rows: np.ndarray) -> Scored:
        if self._wakeup is None:
            raise RuntimeError("the batcher is not running")
        job = _Job(rows, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wakeup.set()
        return await job.future

    async def _consume(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.max_wait_s > 0:
                await asyncio.sleep(self.max_wait_s)
            batch = [self._pending.popleft()]
            rows = len(batch[0].rows)
            while self._pending and rows + len(self._pending[0].rows) <= self.max_rows:
                job = self._pending.popleft()
                batch.append(job)
                rows += len(job.rows)
            batch = [job for job in batch if not job.future.done()]  # cancelled: the client went away
            if batch:
                await self._run(loop, batch)

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[_Job]) -> None:
        X = batch[0].rows if len(batch) == 1 else np.concatenate([job.rows for job in batch])
        try:
            meta, results = await loop.run_in_executor(self._executor, self.score, X)
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                _settle(batch[0].future, exception=exc)
                return
            for job in batch:  # isolate the culprit: each request on its own
                await self._run(loop, [job])
            return
        if self.on_batch is not None:
            self.on_batch(len(batch), len(X))
        start = 0
        for job in batch:
            stop = start + len(job.rows)
            _settle(job.future, result=Scored(meta, results[start:stop], len(X)))
            start = stop


def _settle(future: asyncio.Future, result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
