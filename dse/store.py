"""The result store: a directory of Parquet chunks, one row per (design, workload), resumable.

    STORE/_quarch_store.json          what the store holds: format version, quarch version, space
                                      hash and content, git revision, columns with their units
    STORE/part-000001-<id>.parquet    chunks, all of one schema (field metadata `unit`; schema
                                      metadata `quarch` = the JSON above)
    STORE/.lock                       flock'ed by the one sweep (or compaction) writing
    STORE/_compacting.json            only while chunks are being merged (see `compact`)

`pandas.read_parquet(STORE)` loads every chunk as one DataFrame (readers skip names that
start with `_` or `.`); DuckDB reads `STORE/*.parquet`. A chunk is written to a hidden
temporary, fsynced and renamed into place, so a kill at any moment (SIGKILL included)
leaves whole chunks only; temporaries left behind are removed when the store is next
opened. Rows are keyed by (design_id, workload_id): the sweep skips keys already stored and
writes each key once, and the lock keeps a second sweep out, so no row is ever duplicated.

Compaction (`compact`, run at the end of every sweep and by `quarch store compact`) merges
runs of small chunks into chunks of up to `target_rows` rows, crash-safe by roll-forward:
  1. the merged rows go to a hidden temporary, fsynced;
  2. `_compacting.json` (the plan: sources, temporary, final name) is written atomically;
  3. the temporary is renamed to its final `part-` name, then the sources are deleted;
  4. the plan file is deleted.
Opening the store finishes an interrupted plan: final chunk present -> delete the sources
still there; absent -> delete the temporary (the sources are untouched). Until then
`read_store` skips the sources of a plan whose final chunk exists, so quarch never sees a
row twice; a plain `pandas.read_parquet` of a store whose compaction was killed between
steps 3a and 3b sees the sources too, until quarch next opens the store.
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
PLAN_FILE = "_compacting.json"
TARGET_CHUNK_ROWS = 200_000
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
        self._lock = _lock(self.path)
        meta_path = self.path / META_FILE
        if meta_path.exists():
            self._check_compatible(json.loads(meta_path.read_text()))
        elif any(self.path.glob("*.parquet")):
            raise SpecError(f"has Parquet files but no {META_FILE}: not a quarch store", file=self.path)
        else:
            _atomic_write(meta_path, json.dumps(self.metadata, indent=1, sort_keys=True).encode())
        _recover(self.path)
        return self

    def __exit__(self, *exc) -> None:
        _unlock(self._lock)

    def compact(self, target_rows: int = TARGET_CHUNK_ROWS) -> int:
        """Merge small chunks (see module docstring); returns the number of chunks removed."""
        return _compact(self.path, target_rows)

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
        files = chunk_files(self.path)
        if not files:
            return set()
        table = pq.read_table(files, columns=list(KEY))
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
        numbers = [_chunk_number(p) for p in self.path.glob("part-*.parquet")]
        final, temporary = _chunk_names(self.path, max(numbers, default=0) + 1)
        _write_synced(table, temporary)
        os.replace(temporary, final)
        _fsync_dir(self.path)
        return final


def chunk_files(path: str | Path) -> list[str]:
    """The store's chunk files in order, less the sources of an interrupted compaction already merged."""
    path = Path(path)
    files = sorted(path.glob("part-*.parquet"))
    plan = _read_plan(path)
    if plan and (path / plan["final"]).exists():
        merged = set(plan["sources"])
        files = [f for f in files if f.name not in merged]
    return [str(f) for f in files]


def compact(path: str | Path, target_rows: int = TARGET_CHUNK_ROWS) -> int:
    """Merge a store's small chunks (takes the store's lock); returns the number of chunks removed."""
    path = require_store(path)
    lock = _lock(path)
    try:
        _recover(path)
        return _compact(path, target_rows)
    finally:
        _unlock(lock)


def _compact(path: Path, target_rows: int) -> int:
    """Merge runs of consecutive chunks whose rows add up to at most `target_rows` (lock held)."""
    groups, run, rows_in_run = [], [], 0
    for file in sorted(path.glob("part-*.parquet")):
        rows = pq.ParquetFile(file).metadata.num_rows
        if run and rows_in_run + rows > target_rows:
            groups.append(run)
            run, rows_in_run = [], 0
        run.append(file)
        rows_in_run += rows
    groups.append(run)
    removed = 0
    for sources in (g for g in groups if len(g) > 1):
        final, temporary = _chunk_names(path, _chunk_number(sources[0]))
        _write_synced(pq.read_table([str(f) for f in sources]), temporary)
        _atomic_write(path / PLAN_FILE, json.dumps({"sources": [f.name for f in sources], "temporary": temporary.name,
                                                    "final": final.name}).encode())
        _finish_plan(path, _read_plan(path))
        removed += len(sources) - 1
    return removed


def _finish_plan(path: Path, plan: dict) -> None:
    """Steps 3 and 4 of a compaction plan (also how an interrupted one is rolled forward)."""
    temporary, final = path / plan["temporary"], path / plan["final"]
    if temporary.exists():
        os.replace(temporary, final)
        _fsync_dir(path)
    for name in plan["sources"]:
        (path / name).unlink(missing_ok=True)
    _fsync_dir(path)
    (path / PLAN_FILE).unlink()
    _fsync_dir(path)


def _recover(path: Path) -> None:
    """Finish or undo an interrupted compaction; remove temporaries of interrupted writes."""
    plan = _read_plan(path)
    if plan is not None:
        if (path / plan["temporary"]).exists() or (path / plan["final"]).exists():
            _finish_plan(path, plan)  # the merged rows are whole on disk: roll forward
        else:
            (path / PLAN_FILE).unlink()
    for stale in path.glob(".part-*.tmp"):
        stale.unlink()
    (path / f".{PLAN_FILE}.tmp").unlink(missing_ok=True)


def _read_plan(path: Path) -> dict | None:
    try:
        return json.loads((path / PLAN_FILE).read_text())
    except FileNotFoundError:
        return None


def _chunk_number(file: Path) -> int:
    return int(file.name.split("-")[1])


def _chunk_names(path: Path, number: int) -> tuple[Path, Path]:
    """(final, hidden temporary) paths of a new chunk."""
    final = path / f"part-{number:06d}-{uuid.uuid4().hex[:8]}.parquet"
    return final, path / f".{final.stem}.tmp"


def _write_synced(table: pa.Table, file: Path) -> None:
    pq.write_table(table, file, compression="zstd")
    with open(file, "rb") as handle:
        os.fsync(handle.fileno())


def _lock(path: Path):
    handle = open(path / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SpecError("another sweep is writing this store", file=path) from None
    return handle


def _unlock(handle) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def read_store(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole store (or some columns) as one DataFrame; a one-line SpecError if it is not a store."""
    path = require_store(path)
    for attempt in range(3):  # a compaction may delete a chunk between listing and reading
        files = chunk_files(path)
        if not files:
            return pd.DataFrame(columns=columns or [c["name"] for c in store_metadata(path)["columns"]])
        try:
            return pq.read_table(files, columns=columns).to_pandas()
        except FileNotFoundError:
            if attempt == 2:
                raise
        except (KeyError, pa.ArrowInvalid) as err:
            available = [c["name"] for c in store_metadata(path)["columns"]]
            raise SpecError(f"{err}; columns are {', '.join(available)}", file=path) from None


def require_store(path: str | Path) -> Path:
    """`path`, if it holds a store's metadata; else a one-line SpecError."""
    path = Path(path)
    if not (path / META_FILE).exists():
        raise SpecError(f"not a quarch result store (no {META_FILE}); make one with `quarch sweep`", file=path)
    return path


def store_metadata(path: str | Path) -> dict:
    return json.loads((require_store(path) / META_FILE).read_text())


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
