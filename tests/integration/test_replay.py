"""Replay from the raw log into a scratch database agrees with ``as_of`` on the live views."""

from __future__ import annotations

import contextlib
import random
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pytest
from views import stored_event_rows

from lineagelog.api import Client, RunFailedError, pipeline, step
from lineagelog.domain.errors import RunNotFoundError
from lineagelog.domain.values import RunStatus, StepStatus


@step
def draw(n: int) -> Annotated[list[int], "draws"]:
    return list(range(n))


@step
def check(draws: list[int], fail: bool) -> Annotated[int, "checked"]:
    if fail:
        raise ValueError("the check failed on purpose")
    return sum(draws)


@pipeline
def lottery(n: int, fail: bool = False) -> None:
    check(draw(n=n), fail=fail)


def _random_history(rng: random.Random) -> None:
    client = Client()
    for _ in range(rng.randint(5, 8)):
        with contextlib.suppress(RunFailedError):
            lottery(n=rng.randint(1, 3), fail=rng.random() < 0.25)
        versions = client.list_artifact_versions(name="draws")
        if versions and rng.random() < 0.5:
            client.tag_artifact("draws", rng.choice(versions).version, rng.choice(["a", "b"]))
        if versions and rng.random() < 0.3:
            tagged = [v for v in client.list_artifact_versions(name="draws") if v.tags]
            if tagged:
                victim = rng.choice(tagged)
                client.untag_artifact("draws", victim.version, victim.tags[0])


def _snapshot(client: Client) -> dict[str, Any]:
    runs = client.list_runs()
    return {
        "runs": [
            (
                str(r.id),
                r.status,
                r.failed_step,
                sorted(
                    (n, s.status, s.cache_outcome, sorted(s.outputs)) for n, s in r.steps.items()
                ),
            )
            for r in runs
        ],
        "artifacts": [
            (str(v.id), v.name, v.version, v.content_hash, tuple(v.tags), v.deleted)
            for v in client.list_artifact_versions()
        ],
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_replay_and_as_of_give_the_same_answers_at_random_positions(
    sqlite_stores: tuple[str, str], seed: int
) -> None:
    rng = random.Random(seed)
    _random_history(rng)
    client = Client()
    last = client.context.events.max_position()

    for position in [*sorted(rng.sample(range(0, last + 1), 5)), last]:
        replayed = client.replay(until=position)
        try:
            assert _snapshot(replayed) == _snapshot(client.as_of(position)), position
        finally:
            replayed.context.close()


def test_replay_until_a_moment_agrees_with_as_of_that_moment(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    _random_history(random.Random(3))
    client = Client()
    states = [row[4] for row in stored_event_rows(tmp_path / "lineage.db")]
    stamp = states[len(states) // 2].split(b'"_data_":"', 1)[1].split(b'"', 1)[0].decode()
    moment = datetime.fromisoformat(stamp)

    replayed = client.replay(until=moment)

    try:
        assert _snapshot(replayed) == _snapshot(client.as_of(moment))
        assert 0 < len(replayed.list_runs()) <= len(client.list_runs())
    finally:
        replayed.context.close()


def test_closing_a_replay_removes_its_scratch_database(sqlite_stores: tuple[str, str]) -> None:
    lottery(n=2)
    replayed = Client().replay(until=3)
    scratch = Path(replayed.context.scratch)  # type: ignore[attr-defined]
    assert (scratch / "views.db").exists()

    replayed.context.close()

    assert not scratch.exists()
    assert Client().list_runs()  # the real store stays open


def test_a_runs_state_as_of_a_position_is_what_it_was_then(sqlite_stores: tuple[str, str]) -> None:
    lottery(n=2)
    client = Client()
    run = client.list_runs()[0]
    step = run.steps["draw"]

    started = client.run_state(run.id, as_of=1)
    now = client.run_state(run.id)
    step_early = client.step_run_state(step.id, as_of=3)
    step_now = client.step_run_state(step.id)

    assert (started.status, now.status) == (RunStatus.RUNNING, RunStatus.COMPLETED)
    assert (step_early.status, step_now.status) == (StepStatus.RUNNING, StepStatus.COMPLETED)
    assert started.version == 1 and now.version == 2


def test_a_run_that_did_not_exist_yet_is_not_found_as_of_then(
    sqlite_stores: tuple[str, str],
) -> None:
    lottery(n=1)
    lottery(n=2)
    client = Client()
    newest = client.list_runs()[0]

    with pytest.raises(RunNotFoundError, match="did not exist at log position 2"):
        client.run_state(newest.id, as_of=2)
