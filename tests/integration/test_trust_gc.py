"""gc and prune never break what is running: write leases, and versions in use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pytest
from waiting import wait_until

from lineagelog.adapters.write_leases import LEASES_FOLDER, read_leases, write_lease
from lineagelog.api import Client, VersionInUseError, pipeline, step
from lineagelog.api.lifecycle import ArtifactLifecycle
from lineagelog.domain.lifecycle import InvalidRetentionError

WORKER = Path(__file__).with_name("gc_writer.py")


def _start_worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, worker: subprocess.Popen[str], bound_s: float = 120.0) -> None:
    def arrived() -> bool:
        if worker.poll() is not None:
            pytest.fail(f"the writer ended ({worker.returncode}) first: {worker.stderr.read()}")  # type: ignore[union-attr]
        return path.exists()

    wait_until(arrived, bound_s, str(path))


def _leases(store_root: str) -> list[Path]:
    folder = Path(store_root) / LEASES_FOLDER
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_gc_with_no_grace_period_leaves_an_output_being_written_alone_and_the_run_completes(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    db, store = sqlite_stores
    signals = tmp_path / "signals"
    signals.mkdir()
    worker = _start_worker(db, store, "pause", str(signals))
    _wait_for(signals / "writing", worker)

    report = Client(db, store).gc(apply=True, min_age_s=0)
    (signals / "go").touch()
    _, err = worker.communicate(timeout=120)

    assert worker.returncode == 0, err
    client = Client(db, store)
    assert client.list_runs()[0].status == "completed"
    version = client.get_artifact_version("slow")
    artifacts = client.context.artifacts
    assert artifacts.exists(version.uri + "/data.json"), "gc removed the bytes being written"
    assert json.loads(artifacts.read_text(version.uri + "/data.json")) == {"answer": 42}
    assert artifacts.content_hash(version.uri)[0] == version.content_hash
    [kept] = report.decisions
    assert (kept.uri, kept.action) == (artifacts.check_within_root(version.uri), "keep")
    assert f"pid {worker.pid} on this host is writing it" in kept.reason
    assert _leases(store) == []  # dropped once the event was recorded


def test_a_write_lease_left_by_a_killed_writer_no_longer_protects_its_orphan_bytes(
    sqlite_stores: tuple[str, str],
) -> None:
    db, store = sqlite_stores
    worker = _start_worker(db, store, "kill")
    worker.communicate(timeout=120)
    assert worker.returncode == -9  # killed after writing its bytes, before recording them
    [lease] = _leases(store)
    [orphan] = [p for p in (Path(store) / "plain").iterdir()]
    assert lease.stem == orphan.name

    report = Client(db, store).gc(apply=True, min_age_s=0)

    reasons = {Path(d.uri).name: (d.action, d.reason) for d in report.decisions}
    assert reasons[orphan.name][0] == "remove"
    assert (
        f"pid {worker.pid} on this host, which took it, is no longer running"
        in (reasons[orphan.name][1])
    )
    assert reasons[lease.name][0] == "remove"
    assert not orphan.exists()
    assert _leases(store) == []


def test_gc_does_not_take_the_lease_folder_for_an_artifact_or_an_orphan(
    sqlite_stores: tuple[str, str],
) -> None:
    db, store = sqlite_stores
    client = Client(db, store)
    client.save_artifact({"a": 1}, "labels")
    artifacts = client.context.artifacts
    with write_lease(artifacts, uuid.uuid4(), "labels"):
        report = client.gc(apply=True, min_age_s=0)

        assert report.decisions == []  # a live lease whose folder does not exist yet: nothing
        assert len(_leases(store)) == 1
    assert client.get_artifact_version("labels").load() == {"a": 1}


def test_a_lease_from_another_host_holds_until_the_bound_and_a_forged_one_only_while_young(
    sqlite_stores: tuple[str, str],
) -> None:
    db, store = sqlite_stores
    client = Client(db, store)
    artifacts = client.context.artifacts
    remote, forged = uuid.uuid4(), uuid.uuid4()
    for version_id in (remote, forged):
        artifacts.write_text(artifacts.version_uri("raw", version_id) + "/data.json", "[1]")
    leases = Path(store) / LEASES_FOLDER
    leases.mkdir(parents=True, exist_ok=True)
    (leases / f"{remote}.json").write_text(
        json.dumps({"host": "elsewhere.example", "pid": 7, "started": time.time() - 600})
    )
    forged_lease = leases / f"{forged}.json"
    forged_lease.write_text(json.dumps({"host": 1, "pid": -1, "started": "x"}))
    ten_minutes_ago = time.time() - 600
    os.utime(forged_lease, (ten_minutes_ago, ten_minutes_ago))
    (leases / "not-a-lease.txt").write_text("left alone")

    young = client.gc(apply=True, min_age_s=0, lease_max_age_s=3600)
    old = client.gc(apply=True, min_age_s=0, lease_max_age_s=60)

    assert [d.action for d in young.decisions] == ["keep", "keep"]
    assert any("on host 'elsewhere.example' began writing it" in d.reason for d in young.decisions)
    assert any("an unreadable write lease" in d.reason for d in young.decisions)
    assert sorted(d.action for d in old.decisions) == ["remove"] * 4  # 2 folders, 2 leases
    assert not artifacts.exists(artifacts.version_uri("raw", remote))
    assert [p.name for p in leases.iterdir()] == ["not-a-lease.txt"]


def test_read_leases_checks_the_process_behind_a_lease_of_this_host(
    sqlite_stores: tuple[str, str],
) -> None:
    db, store = sqlite_stores
    artifacts = Client(db, store).context.artifacts

    with write_lease(artifacts, uuid.uuid4(), "raw"):
        [mine] = read_leases(artifacts)

    assert (mine.pid, mine.process_alive) == (os.getpid(), True)
    assert read_leases(artifacts) == []


def test_gc_refuses_a_negative_lease_bound(sqlite_stores: tuple[str, str]) -> None:
    with pytest.raises(InvalidRetentionError, match=r"lease_max_age=-1 seconds"):
        Client().gc(lease_max_age_s=-1)


@step
def load(n: int) -> Annotated[list[int], "raw"]:
    return list(range(n))


@pipeline
def loading(n: int = 3) -> None:
    load(n=n)


def test_prune_keeps_a_version_a_cache_hit_reused_a_moment_ago_and_says_why(
    sqlite_stores: tuple[str, str],
) -> None:
    loading(n=1)
    loading(n=2)
    hit = loading(n=1)  # a cache hit reusing raw:1
    assert hit.steps["load"].cache_outcome == "hit"

    report = Client().prune(keep=1, apply=True)

    [raw1] = [d for d in report.decisions if d.version.label == "raw:1"]
    assert raw1.action == "keep"
    assert "in use: reused by a cache hit of step 'load'" in raw1.reason
    assert "s ago (within the 3600s reuse window)" in raw1.reason
    assert Client().get_artifact_version("raw", 1).load() == [0]


def test_a_retention_delete_checks_the_names_stream_for_a_reuse_the_views_have_not_shown(
    sqlite_stores: tuple[str, str],
) -> None:
    loading(n=1)
    loading(n=2)
    before_the_hit = datetime.now(UTC)
    loading(n=1)  # a cache hit reusing raw:1 after the moment a prune planned at
    lifecycle = ArtifactLifecycle(Client().context)

    with pytest.raises(VersionInUseError, match=r"raw:1 was reused by a cache hit"):
        lifecycle.delete("raw", 1, reason="pruned", unless_reused_since=before_the_hit)

    assert not Client().get_artifact_version("raw", 1).deleted
    assert Client().get_artifact_version("raw", 1).load() == [0]


def test_prune_deletes_a_reused_version_once_the_reuse_is_older_than_the_window(
    sqlite_stores: tuple[str, str],
) -> None:
    loading(n=1)
    loading(n=2)
    loading(n=1)  # a cache hit reusing raw:1, already older than a window of 0 s

    report = Client().prune(keep=1, apply=True, reuse_window_s=0)

    assert report.deleted == ["raw:1"]
    assert Client().get_artifact_version("raw", 1).deleted


def test_prune_keeps_what_a_run_still_running_reused_however_old_the_reuse(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    db, store = sqlite_stores
    signals = tmp_path / "signals"
    signals.mkdir()
    worker = _start_worker(db, store, "reuse", str(signals))
    _wait_for(signals / "writing", worker)

    report = Client(db, store).prune(keep=1, apply=True, reuse_window_s=0)
    (signals / "go").touch()
    _, err = worker.communicate(timeout=120)

    assert worker.returncode == 0, err
    [raw1] = [d for d in report.decisions if d.version.label == "raw:1"]
    assert raw1.action == "keep"
    assert raw1.reason.startswith("in use: reused by step 'load' of run 'reuse_then_pause")
    assert "which is still running" in raw1.reason
    assert Client(db, store).get_artifact_version("raw", 1).load() == [0]


def test_prune_refuses_a_reuse_window_that_is_not_a_number_of_seconds(
    sqlite_stores: tuple[str, str],
) -> None:
    loading(n=1)

    with pytest.raises(InvalidRetentionError, match=r"reuse_window=-5 seconds is not a number"):
        Client().prune(keep=1, reuse_window_s=-5)


@pytest.mark.s3
def test_on_s3_gc_spares_a_folder_under_a_live_lease_and_leaves_no_lease_behind_a_run(
    s3_store: str, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    loading.run(n=2, database_url=db, artifact_store=s3_store)
    client = Client(db, s3_store)
    artifacts = client.context.artifacts
    writing = uuid.uuid4()
    uri = artifacts.version_uri("raw", writing)

    with write_lease(artifacts, writing, "raw"):
        artifacts.write_text(uri + "/data.json", "[0, 1]")  # bytes written, no event yet
        report = client.gc(apply=True, min_age_s=0)

    assert [(d.uri, d.action) for d in report.decisions] == [(uri, "keep")]
    assert artifacts.read_text(uri + "/data.json") == "[0, 1]"
    assert read_leases(artifacts) == []
    assert client.get_artifact_version("raw").load() == [0, 1]


@pytest.mark.postgres
def test_on_postgresql_prune_keeps_a_recent_reuse_and_deletes_an_old_one(
    postgres_url: str, tmp_path: Path
) -> None:
    store = str(tmp_path / "artifacts")
    for n in (1, 2, 1):  # the second n=1 is a cache hit reusing raw:1
        loading.run(n=n, database_url=postgres_url, artifact_store=store)
    client = Client(postgres_url, store)

    kept = client.prune(keep=1, apply=True)
    deleted = client.prune(keep=1, apply=True, reuse_window_s=0)

    assert kept.deleted == []
    assert deleted.deleted == ["raw:1"]


def test_a_lease_naming_this_host_but_another_boot_is_judged_as_from_another_machine(
    sqlite_stores: tuple[str, str],
) -> None:
    db, store = sqlite_stores
    artifacts = Client(db, store).context.artifacts
    leases = Path(store) / LEASES_FOLDER
    leases.mkdir(parents=True)
    record = {"host": socket.gethostname(), "boot_id": "another-boot", "pid": os.getpid()}
    (leases / f"{uuid.uuid4()}.json").write_text(json.dumps({**record, "started": time.time()}))

    [lease] = read_leases(artifacts)

    assert lease.process_alive is None  # not checked against a process here: age-bound


def test_a_symlink_planted_in_the_store_is_skipped_and_reported_and_what_it_points_to_survives(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    db, store = sqlite_stores
    client = Client(db, store)
    client.save_artifact({"a": 1}, "labels")
    outside = tmp_path / "outside"
    (outside / str(uuid.uuid4())).mkdir(parents=True)
    (outside / "keep.txt").write_text("not the store's")
    root = Path(store)
    (root / "planted").symlink_to(outside, target_is_directory=True)
    planted_version = root / "labels" / str(uuid.uuid4())
    planted_version.symlink_to(outside, target_is_directory=True)
    orphan = root / "labels" / str(uuid.uuid4())
    orphan.mkdir()
    (orphan / "data.json").write_text("[]")

    report = client.gc(apply=True, min_age_s=0)

    skipped = {d.uri.rsplit("/", 1)[-1]: d for d in report.decisions if d.action == "skip"}
    assert set(skipped) == {"planted", planted_version.name}
    assert all("symlink" in d.reason for d in skipped.values())
    # the rest of the store is still collected
    assert [uri.rsplit("/", 1)[-1] for uri in report.removed] == [orphan.name]
    assert not orphan.exists()
    assert (outside / "keep.txt").read_text() == "not the store's"
    assert len(list(outside.iterdir())) == 2
    assert client.get_artifact_version("labels").load() == {"a": 1}
