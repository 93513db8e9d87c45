"""Root causes in lineage of other shapes: a step that is not reproducible, a diamond,
and the same comparisons on PostgreSQL and MariaDB.

Each pipeline is a module written to a file and imported (``load_module``), so a
step's code can change between two runs as it does when someone edits it.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lineagelog.api import Client, configure
from lineagelog.domain.root_causes import ArtifactComparison

READING = """
from pathlib import Path
from typing import Annotated

from lineagelog.api import pipeline, step


@step(enable_cache=False)
def read_prices() -> Annotated[list[float], "prices"]:
    # Reads a file its ingredients do not cover: the same step, two answers.
    return [float(x) for x in Path(PRICES).read_text().split()]


@step
def average(prices: list[float]) -> Annotated[float, "average_price"]:
    return sum(prices) / len(prices)


@pipeline
def pricing():
    average(read_prices())
"""

DIAMOND = """
from typing import Annotated

from lineagelog.api import pipeline, step


@step
def load(n: int = 4) -> Annotated[list[int], "raw"]:
    return list(range(n))


@step
def evens(raw: list[int]) -> Annotated[list[int], "evens"]:
    return [x for x in raw if x % 2 == 0]


@step
def odds(raw: list[int]) -> Annotated[list[int], "odds"]:
    return [x ODDS for x in raw if x % 2]


@step
def combine(evens: list[int], odds: list[int]) -> Annotated[dict, "summary"]:
    return {"evens": sum(evens), "odds": sum(odds)}


@pipeline
def diamond(n: int = 4):
    raw = load(n=n)
    combine(evens(raw), odds(raw))
"""


def _diamond(load_module: Any, odds: str = "* 1") -> ModuleType:
    module: ModuleType = load_module("diamond_flow", DIAMOND.replace("ODDS", odds))
    return module


def _causes(comparison: ArtifactComparison) -> list[tuple[str, str | None]]:
    return [(cause.kind, cause.step) for cause in comparison.root_causes]


def test_the_same_ingredients_giving_different_content_is_called_not_reproducible(
    sqlite_stores: tuple[str, str], load_module: Any, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.txt"
    flow = load_module("pricing_flow", READING.replace("PRICES", repr(str(prices))))
    prices.write_text("1 2 3")
    first = flow.pricing()
    prices.write_text("1 2 6")
    second = flow.pricing()

    compared = Client().diff_artifacts("average_price:1", "average_price:2")
    runs = Client().diff_runs(first.id, second.id)

    assert _causes(compared) == [("not reproducible", "read_prices")]
    cause = compared.root_causes[0]
    assert "wrote different content to `prices` from the same ingredients" in cause.description
    assert compared.path_labels(cause) == [
        "read_prices",
        "prices:1 -> prices:2",
        "average",
        "average_price:1 -> average_price:2",
    ]
    assert cause.consequences == ["prices:1 -> prices:2", "average_price:1 -> average_price:2"]
    read = next(s for s in runs.steps if s.invocation_id == "read_prices")
    assert (read.change, read.differences) == ("changed", ())
    assert [(o.name, o.same) for o in read.outputs] == [("prices", False)]


def test_a_change_above_a_diamond_is_one_root_cause_reaching_both_branches(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _diamond(load_module)
    flow.diamond(n=4)
    flow.diamond(n=6)

    compared = Client().diff_artifacts("summary:1", "summary:2")

    assert _causes(compared) == [("parameter", "load")]
    cause = compared.root_causes[0]
    assert cause.description == "parameter `n` of step `load` changed 4 -> 6"
    assert sorted(cause.consequences) == [
        "evens:1 -> evens:2",
        "odds:1 -> odds:2",
        "raw:1 -> raw:2",
        "summary:1 -> summary:2",
    ]
    path = compared.path_labels(cause)
    assert path[:2] == ["load", "raw:1 -> raw:2"]
    assert path[-2:] == ["combine", "summary:1 -> summary:2"]
    steps = sorted(n.label for n in compared.nodes.values() if n.kind == "step")
    assert steps == ["combine", "evens", "load", "odds"]  # the shared step aligned once


def test_a_change_in_one_branch_of_a_diamond_leaves_the_other_branch_alone(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _diamond(load_module, odds="* 1").diamond()
    _diamond(load_module, odds="* 10").diamond()

    compared = Client().diff_artifacts("summary:1", "summary:2")

    assert _causes(compared) == [("code", "odds")]
    cause = compared.root_causes[0]
    assert compared.path_labels(cause) == [
        "odds",
        "odds:1 -> odds:2",
        "combine",
        "summary:1 -> summary:2",
    ]
    # The second run served `evens` from the cache: the very same version, nothing above it.
    differs = {n.label: n.differs for n in compared.nodes.values()}
    assert differs == {
        "summary:1 -> summary:2": True,
        "combine": True,
        "evens:1": False,
        "odds:1 -> odds:2": True,
        "odds": True,
        "raw:1": False,
    }


@pytest.mark.parametrize(
    "server_url",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgresql"),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    ],
)
def test_comparisons_on_a_database_server_find_the_same_root_causes_now_and_as_of(
    server_url: str, request: pytest.FixtureRequest, load_module: Any, tmp_path: Path
) -> None:
    database_url = request.getfixturevalue(server_url)
    configure(database_url=database_url, artifact_store=str(tmp_path / "artifacts"))
    try:
        first = _diamond(load_module, odds="* 1").diamond(n=4)
        second = _diamond(load_module, odds="* 1").diamond(n=6)
        before_third = Client().context.events.max_position()
        third = _diamond(load_module, odds="* 10").diamond(n=6)

        now = Client().diff_artifacts("summary:1", "summary:3")
        past = Client().as_of(before_third).diff_artifacts("summary:1", "summary")
        runs = Client().diff_runs(second.id, third.id)
    finally:
        configure()

    assert _causes(now) == [("parameter", "load"), ("code", "odds")]
    assert now.value is not None and now.value.how == "values"
    assert _causes(past) == [("parameter", "load")]
    assert past.b.label == "summary:2"
    changed = {s.invocation_id: s.change for s in runs.steps}
    assert changed == {"load": "same", "evens": "same", "odds": "changed", "combine": "changed"}
    odds = next(s for s in runs.steps if s.invocation_id == "odds")
    assert odds.code is not None and odds.code.diff is not None
    assert "+    return [x * 10 for x in raw if x % 2]" in odds.code.diff
    assert first.id != second.id
