"""Batch scoring: a folder, a manifest or a features CSV → Parquet of windows and tracks; resumable after a crash,
on local processes or a Dask cluster (``mer batch``).

Modules, in the order the data goes through them: :mod:`~mer.batch.inputs` (what was given),
:mod:`~mer.batch.work` (one file on a worker), :mod:`~mer.batch.executors` (in-process, process pool, Dask),
:mod:`~mer.batch.parts` (atomic parts, resume, merge), :mod:`~mer.batch.features_csv` (the fast tabular path),
:mod:`~mer.batch.catalog_sync` (optional catalog writes) and :mod:`~mer.batch.job` (the whole run).
"""

from mer.batch.inputs import BatchInput, BatchInputError, InputKind, resolve_input
from mer.batch.job import BatchOptions, BatchReport, LoadedModel, NoModel, Reporter, load_model, run_batch
from mer.batch.parts import JobMismatch, OutputBusy, OutputPaths

__all__ = [
    "BatchInput", "BatchInputError", "BatchOptions", "BatchReport", "InputKind", "JobMismatch", "LoadedModel",
    "NoModel", "OutputBusy", "OutputPaths", "Reporter", "load_model", "resolve_input", "run_batch",
]
