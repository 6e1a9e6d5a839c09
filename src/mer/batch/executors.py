"""Where the files are scored: in this process, in a local process pool, or on a Dask cluster — one interface.

Each executor takes the model once and ships it once per worker: the process pool pickles it into each worker's
initializer; Dask scatters it to every worker (``broadcast=True``) and tasks receive the worker-local copy. Results
come back in completion order, so the caller can write parts as soon as files finish.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mer.batch.work import FileTask, Outcome, ScoreSettings, init_worker, score_file, score_file_in_worker

LOCAL_PREFIX = "local:"
# imported once by the fork server, so each worker forks with them loaded instead of importing them itself
WORKER_PRELOAD = ["mer.batch.work", "mer.scoring", "mer.features.extract", "sklearn.pipeline"]


def worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver``: workers are forked from a clean server process (never from this one, which may hold threads
    and locks), with the heavy imports preloaded."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD)
    return ctx


class Executor(Protocol):
    """Scores tasks and yields their outcomes as they complete."""

    name: str

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, tasks: Iterable[FileTask]) -> Iterator[Outcome]: ...


class InProcess(AbstractContextManager):
    """One worker: this process (no pickling, no start-up; what ``--workers 1`` uses)."""

    name = "in-process"

    def __init__(self, model, settings: ScoreSettings):
        self.model, self.settings = model, settings

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, tasks: Iterable[FileTask]) -> Iterator[Outcome]:
        for task in tasks:
            yield score_file(self.model, task, self.settings)


class LocalProcesses(AbstractContextManager):
    """A pool of ``workers`` processes (see :func:`worker_context`); each unpickles the model once, at start."""

    def __init__(self, model, settings: ScoreSettings, workers: int):
        self.model, self.settings, self.workers = model, settings, workers
        self.name = f"{workers} local processes"
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalProcesses:
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=worker_context(),
            initializer=init_worker, initargs=(self.model, os.getpid()),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, tasks: Iterable[FileTask]) -> Iterator[Outcome]:
        assert self.pool is not None, "use the executor as a context manager"
        futures = {self.pool.submit(score_file_in_worker, t, self.settings): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield future.result()
            except BrokenProcessPool as exc:  # a worker died (e.g. a crash in a decoder): retried by the next run
                yield Outcome(task.path, task.content_hash, error=f"worker process died: {exc}", final=False)


class DaskCluster(AbstractContextManager):
    """The same job on Dask: ``address`` of a running scheduler, or ``local:N`` for a local cluster of N processes.

    Files are read by the workers, so on a real cluster the paths must be visible to them (a shared file system).
    """

    def __init__(self, model, settings: ScoreSettings, address: str):
        self.model, self.settings, self.address = model, settings, address
        self.name = f"Dask {address}"
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> DaskCluster:
        from distributed import Client, LocalCluster

        if self.address.startswith(LOCAL_PREFIX):
            n = parse_local_workers(self.address)
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def run(self, tasks: Iterable[FileTask]) -> Iterator[Outcome]:
        from distributed import as_completed as dask_as_completed

        tasks = list(tasks)
        if not tasks:
            return
        model = self.client.scatter(self.model, broadcast=True)  # one copy per worker, not one per task
        futures = [self.client.submit(score_file, model, t, self.settings, key=f"score-{i}-{t.content_hash[:16]}",
                                      pure=False) for i, t in enumerate(tasks)]
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for future in dask_as_completed(futures):
            task = by_key[future.key]
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 — a lost worker or a scheduler error: retried by the next run
                yield Outcome(task.path, task.content_hash, error=f"dask task failed: {type(exc).__name__}: {exc}",
                              final=False)
            future.release()


def parse_local_workers(address: str) -> int:
    """``local:N`` → N (at least 1)."""
    try:
        n = int(address.removeprefix(LOCAL_PREFIX))
    except ValueError:
        raise ValueError(f"--dask {address!r}: expected local:N or a scheduler address such as tcp://host:8786") \
            from None
    if n < 1:
        raise ValueError(f"--dask {address!r}: need at least one worker")
    return n


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def make_executor(model, settings: ScoreSettings, workers: int | None = None, dask: str | None = None) -> Executor:
    """Dask if an address is given, else a local pool of ``workers`` processes (this process when 1)."""
    if dask:
        return DaskCluster(model, settings, dask)
    workers = workers or default_workers()
    return InProcess(model, settings) if workers == 1 else LocalProcesses(model, settings, workers)
