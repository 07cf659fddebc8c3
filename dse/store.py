"""The result store: a directory of Parquet chunks, one row per (design, workload), resumable.

    STORE/_quarch_store.json          what the store holds: format version, quarch version, space
                                      hash and content, git revision, columns with their units
    STORE/part-000001-<id>.parquet    chunks, all of one schema (field metadata `unit`; schema
                                      metadata `quarch` = the JSON above)
    STORE/.lock                       flock'ed by the one sweep writing

`pandas.read_parquet(STORE)` loads every chunk as one DataFrame (readers skip names that
start with `_` or `.`); DuckDB reads `STORE/*.parquet`. A chunk is written to a hidden
temporary, fsynced and renamed into place, so a kill at any moment (SIGKILL included)
leaves whole chunks only; temporaries left behind are removed when the store is next
opened. Rows are keyed by (design_id, workload_id): the sweep skips keys already stored and
writes each key once, and the lock keeps a second sweep out, so no row is ever duplicated.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workloads.errors import SpecError

STORE_VERSION = 1
META_FILE = "_quarch_store.json"
KEY = ("design_id", "workload_id")
_ARROW = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(), "json": pa.string()}


class Store:
    """A store opened for writing; use as a context manager (holds the lock)."""

    def __init__(self, path: str | Path, columns: list[tuple[str, str, str]], metadata: dict):
        """Create the store, or open an existing one made with the same space and columns.

        `columns`: (name, kind, unit) with kind in int | float | str | bool | json.
        """
        self.path = Path(path)
        self.metadata = {"quarch_store": STORE_VERSION, **metadata,
                         "columns": [{"name": n, "kind": k, "unit": u} for n, k, u in columns]}
        self._json = [name for name, kind, _ in columns if kind == "json"]
        self.schema = pa.schema([pa.field(name, _ARROW[kind], metadata={"unit": unit} if unit else None)
                                 for name, kind, unit in columns],
                                metadata={"quarch": json.dumps(self.metadata, sort_keys=True)})
        self._lock = None

    def __enter__(self) -> "Store":
        if self.path.exists() and not self.path.is_dir():
            raise SpecError("exists and is not a directory: give a new or existing store folder", file=self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SpecError("another sweep is writing this store", file=self.path) from None
        meta_path = self.path / META_FILE
        if meta_path.exists():
            self._check_compatible(json.loads(meta_path.read_text()))
        elif any(self.path.glob("*.parquet")):
            raise SpecError(f"has Parquet files but no {META_FILE}: not a quarch store", file=self.path)
        else:
            _atomic_write(meta_path, json.dumps(self.metadata, indent=1, sort_keys=True).encode())
        for stale in self.path.glob(".part-*.tmp"):
            stale.unlink()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def _check_compatible(self, stored: dict) -> None:
        if stored.get("space_hash") != self.metadata["space_hash"]:
            raise SpecError(f"was written for space {stored.get('space_name')!r} (hash {stored.get('space_hash')}), "
                            f"not this space (hash {self.metadata['space_hash']}): resume with the same space "
                            "file or write to another store (-o)", file=self.path)
        if stored.get("columns") != self.metadata["columns"]:
            raise SpecError("its columns differ from this sweep's (another quarch version?): write to another "
                            "store (-o)", file=self.path)

    def done_keys(self) -> set[tuple[str, str]]:
        """(design_id, workload_id) of every stored row."""
        if not any(self.path.glob("*.parquet")):
            return set()
        table = pq.read_table(self.path, columns=list(KEY))
        return set(zip(table.column(KEY[0]).to_pylist(), table.column(KEY[1]).to_pylist()))

    def write(self, rows: list[dict] | pa.Table) -> Path:
        """Append one chunk atomically (rows: dicts by column name, or a table of this schema)."""
        if isinstance(rows, list):
            for column in self._json:
                rows = [{**row, column: json.dumps(row[column], sort_keys=True)} if row.get(column) is not None
                        else row for row in rows]
            table = pa.Table.from_pylist(rows, schema=self.schema)
        else:
            table = rows.cast(self.schema)
        numbers = [int(p.name.split("-")[1]) for p in self.path.glob("part-*.parquet")]
        final = self.path / f"part-{max(numbers, default=0) + 1:06d}-{uuid.uuid4().hex[:8]}.parquet"
        temporary = self.path / f".{final.stem}.tmp"
        pq.write_table(table, temporary, compression="zstd")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(self.path)
        return final


def read_store(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole store (or some columns) as one DataFrame; a one-line SpecError if it is not a store."""
    path = Path(path)
    if not (path / META_FILE).exists():
        raise SpecError(f"not a quarch result store (no {META_FILE}); make one with `quarch sweep`", file=path)
    if not any(path.glob("*.parquet")):
        return pd.DataFrame(columns=columns or [c["name"] for c in store_metadata(path)["columns"]])
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except (KeyError, pa.ArrowInvalid) as err:
        available = [c["name"] for c in store_metadata(path)["columns"]]
        raise SpecError(f"{err}; columns are {', '.join(available)}", file=path) from None


def store_metadata(path: str | Path) -> dict:
    return json.loads((Path(path) / META_FILE).read_text())


def git_revision() -> str:
    """The quarch source tree's git revision (+ '-dirty' with local changes), or 'unknown'."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if rev.returncode != 0:
        return "unknown"
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
