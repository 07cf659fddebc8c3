"""Store compaction: small chunks merged, nothing lost or duplicated whenever it is interrupted."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dse import store as store_module
from dse.store import PLAN_FILE, Store, compact, read_store

COLUMNS = [("design_id", "str", ""), ("workload_id", "str", ""), ("latency_s", "float", "s")]
METADATA = {"space_hash": "abc", "space_name": "test"}


def make_store(path: Path, chunks: int = 12, rows_per_chunk: int = 5) -> pd.DataFrame:
    with Store(path, COLUMNS, METADATA) as store:
        for c in range(chunks):
            store.write([{"design_id": f"d{c}-{r}", "workload_id": "w", "latency_s": c + r / 10}
                         for r in range(rows_per_chunk)])
    return read_store(path)


def parquet_files(path: Path) -> list[Path]:
    return sorted(path.glob("part-*.parquet"))


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    key = ["design_id", "workload_id"]
    return a.sort_values(key).reset_index(drop=True).equals(b.sort_values(key).reset_index(drop=True))


def test_compaction_merges_runs_of_small_chunks_keeping_rows_order_schema_and_units(tmp_path):
    before = make_store(tmp_path / "s")
    assert compact(tmp_path / "s", target_rows=20) == 12 - 3  # runs of 4 chunks of 5 rows
    files = parquet_files(tmp_path / "s")
    assert [pq.ParquetFile(f).metadata.num_rows for f in files] == [20, 20, 20]
    after = read_store(tmp_path / "s")
    assert after.equals(before)  # same rows, same order
    assert pd.read_parquet(tmp_path / "s").equals(before)  # plain pandas too
    field = pq.read_schema(files[0]).field("latency_s")
    assert field.metadata == {b"unit": b"s"} and b"quarch" in pq.read_schema(files[0]).metadata
    assert compact(tmp_path / "s", target_rows=20) == 0  # nothing left to merge
    assert not (tmp_path / "s" / PLAN_FILE).exists()


def test_a_store_keeps_growing_after_compaction(tmp_path):
    make_store(tmp_path / "s", chunks=4)
    compact(tmp_path / "s")
    with Store(tmp_path / "s", COLUMNS, METADATA) as store:
        store.write([{"design_id": "new", "workload_id": "w", "latency_s": 1.0}])
        assert len(store.done_keys()) == 21
    assert len(parquet_files(tmp_path / "s")) == 2 and len(read_store(tmp_path / "s")) == 21


class Crash(Exception):
    pass




@pytest.mark.parametrize("crash_at", range(1, 24))
def test_compaction_interrupted_at_any_step_loses_and_duplicates_nothing(tmp_path, monkeypatch, crash_at):
    """Stop the compaction at its n-th rename/unlink/directory fsync; quarch's view never changes,
    and reopening the store finishes or undoes the merge."""
    path = tmp_path / "s"
    before = make_store(path, chunks=6)
    calls = {"n": 0}
    real = {"replace": os.replace, "fsync_dir": store_module._fsync_dir, "unlink": Path.unlink}

    def step(name):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == crash_at:
                raise Crash(name)
            return real[name](*args, **kwargs)
        return wrapped

    monkeypatch.setattr(store_module.os, "replace", step("replace"))
    monkeypatch.setattr(store_module, "_fsync_dir", step("fsync_dir"))
    monkeypatch.setattr(Path, "unlink", step("unlink"))
    try:
        compact(path, target_rows=10)
        crashed = False
    except Crash:
        crashed = True
    monkeypatch.undo()
    assert same_rows(read_store(path), before)  # even before recovery
    with Store(path, COLUMNS, METADATA):  # opening recovers
        pass
    assert not (path / PLAN_FILE).exists() and not list(path.glob(".*.tmp"))
    assert same_rows(pd.read_parquet(path), before)
    if not crashed:
        assert len(parquet_files(path)) == 3
    assert compact(path, target_rows=10) >= 0 and same_rows(pd.read_parquet(path), before)


KILLER = """
import os, signal, sys
from pathlib import Path
from dse import store
calls = {"n": 0}
real_unlink = Path.unlink
def unlink(self, *args, **kwargs):
    calls["n"] += self.suffix == ".parquet"
    if self.suffix == ".parquet" and calls["n"] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # between the merged chunk's rename and its sources' removal
    return real_unlink(self, *args, **kwargs)
Path.unlink = unlink
store.compact(sys.argv[1], target_rows=10)
"""


@pytest.mark.parametrize("kill_at", [1, 2])
def test_compaction_killed_with_sigkill_between_rename_and_removal_recovers(tmp_path, kill_at):
    path = tmp_path / "s"
    before = make_store(path, chunks=4)
    done = subprocess.run([sys.executable, "-c", KILLER, str(path), str(kill_at)],
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == -signal.SIGKILL
    plan = json.loads((path / PLAN_FILE).read_text())
    assert (path / plan["final"]).exists()  # merged chunk in place, some sources still there
    assert same_rows(read_store(path), before)  # quarch skips the merged sources
    with Store(path, COLUMNS, METADATA):
        pass
    assert same_rows(pd.read_parquet(path), before) and len(parquet_files(path)) == 3  # first pair merged
    compact(path, target_rows=10)
    assert same_rows(pd.read_parquet(path), before) and len(parquet_files(path)) == 2


def test_cli_store_compact(tmp_path):
    make_store(tmp_path / "s", chunks=6)
    done = subprocess.run([sys.executable, "-m", "quarch", "store", "compact", str(tmp_path / "s")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0 and "6 chunks -> 1" in done.stdout, done.stdout + done.stderr
    bad = subprocess.run([sys.executable, "-m", "quarch", "store", "compact", str(tmp_path)],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert bad.returncode == 2 and "not a quarch result store" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
