"""Property-based: random histories of runs, failures, cache hits, tags and deletions keep
the invariants: views equal rebuilds, versions unique and gapless, lineage acyclic, audit passes.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import (
    Client,
    DuplicateVersionError,
    Tag,
    add_tags,
    configure,
    log_artifact_metadata,
    log_metadata,
    remove_tags,
    save_artifact,
)
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import RunFailedError
from lineagelog.projections import schema as t
from lineagelog.projections.graph import check_acyclic

sys.path.insert(0, str(Path(__file__).parent))
from crash_pipelines import crashy, expected_total

ACTIONS = st.one_of(
    st.tuples(st.just("run"), st.integers(1, 3), st.just(False), st.booleans()),
    st.tuples(st.just("fail"), st.integers(1, 3), st.just(True), st.booleans()),
    st.tuples(st.just("tag"), st.sampled_from(["prod", "x' OR '1'='1", "best"]), st.booleans()),
    st.tuples(st.just("delete"), st.sampled_from(["source", "squares", "total"])),
    st.tuples(st.just("runtag"), st.sampled_from(["champion", "reviewed"]), st.booleans()),
    st.tuples(st.just("meta"), st.sampled_from(["run", "total"]), st.integers(0, 3)),
    st.tuples(st.just("save"), st.sampled_from([None, "v1.0", "v2"])),
)


def _apply(client: Client, db: str, store: str, action: tuple[object, ...]) -> None:
    kind = action[0]
    if kind in ("run", "fail"):
        _, n, fail, cache = action
        try:
            run = crashy.run(
                n=n, fail=fail, enable_cache=cache, database_url=db, artifact_store=store
            )
        except RunFailedError:
            assert fail
            return
        assert run.steps["total"].outputs["total"].load(verify=True) == expected_total(n)
    elif kind == "tag":
        _, tag, untag = action
        versions = [v for v in client.list_artifact_versions(name="total") if not v.deleted]
        if versions:
            latest = versions[-1]
            if untag and tag in latest.tags:
                client.untag_artifact("total", latest.version, tag)
            else:
                client.tag_artifact("total", latest.version, tag)
    elif kind == "delete":
        _, name = action
        live = [v for v in client.list_artifact_versions(name=name) if not v.deleted]
        if live:
            client.delete_artifact_version(name, live[0].version, reason="property test")
    else:
        _apply_zenml(client, action)


def _apply_zenml(client: Client, action: tuple[object, ...]) -> None:
    """Run tags (one exclusive), logged metadata and saved versions with chosen names."""
    kind = action[0]
    runs = client.list_runs(limit=1)
    if kind == "runtag" and runs:
        _, name, untag = action
        if untag and name in runs[0].tags:
            remove_tags(tags=[str(name)], run=runs[0].id)
        else:
            add_tags(tags=[Tag(name=str(name), exclusive=name == "champion")], run=runs[0].id)
    elif kind == "meta" and action[1] == "run" and runs:
        log_metadata(metadata={"step": action[2]}, run_id_name_or_prefix=runs[0].id)
    elif kind == "meta":
        live = [v for v in client.list_artifact_versions(name="total") if not v.deleted]
        if live:
            log_artifact_metadata(
                metadata={"score": action[2]},
                artifact_name="total",
                artifact_version=live[-1].version,
            )
    elif kind == "save":
        try:
            save_artifact([1, 2], "manual", version=action[1])  # type: ignore[arg-type]
        except DuplicateVersionError:
            assert action[1] is not None


def _check_invariants(client: Client) -> None:
    client.context.catch_up()
    engine = client.context.engine
    with engine.connect() as conn:
        versions = conn.execute(select(t.artifact_versions.c.name, t.artifact_versions.c.version))
        by_name: dict[str, list[int]] = defaultdict(list)
        for name, version in versions:
            by_name[name].append(version)
        edges = [(row.src, row.dst) for row in conn.execute(select(t.lineage_edges))]
    for name, numbers in by_name.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), name
    graph = nx.DiGraph(edges)
    check_acyclic(graph)
    report = client.audit(verify_artifacts=True)
    assert report.ok, [p.message for p in report.problems]
    maintained = view_rows(client.context)
    client.context.projector.rebuild()
    assert view_rows(client.context) == maintained


def _check_export_import(client: Client, folder: Path) -> None:
    """An exported and imported history shows the same views and audits clean."""
    export = folder / "events.jsonl"
    with export.open("w", encoding="utf-8") as out:
        export_events(client.context.events, out)
    copy = Client(f"sqlite:///{folder}/copy.db", str(folder / "artifacts"))
    with export.open(encoding="utf-8") as source:
        import_events(copy.context.events, source)
    copy.context.catch_up()
    assert view_rows(copy.context) == view_rows(client.context)


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(ACTIONS, min_size=1, max_size=10))
def test_random_histories_keep_every_invariant(history):
    with tempfile.TemporaryDirectory(prefix="lineagelog-prop-") as folder:
        db, store = f"sqlite:///{folder}/lineage.db", f"{folder}/artifacts"
        try:
            configure(database_url=db, artifact_store=store)  # the module-level functions' store
            client = Client(db, store)
            for action in history:
                _apply(client, db, store, action)

            _check_invariants(client)
            _check_export_import(client, Path(folder))
        finally:
            close_contexts()
            configure()
