"""The cache key covers what a step computes with, on a real SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from lineagelog.api import Client, pipeline, step


class Model:
    """An object without a canonical encoding."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def predict(self, x: int) -> int:
        return x + self.offset


def scaling_pipeline(factor: int) -> Any:
    """One pipeline, whose one step is made by a factory around ``factor``."""

    @step(name="scale")
    def scale(x: int = 2) -> int:
        return x * factor

    @pipeline(name="scaling")
    def scaling() -> None:
        scale()

    return scaling


def predicting_pipeline(model: Model) -> Any:
    @step(name="predict")
    def predict(x: int = 1) -> int:
        return model.predict(x)

    @pipeline(name="predicting")
    def predicting() -> None:
        predict()

    return predicting


STEP_MODULE = """
    from lineagelog.api import pipeline, step
    from cache_helpers import transform

    @step
    def apply(x: int = 1) -> int:
        return transform(x)

    @pipeline(name="applying")
    def applying() -> None:
        apply()
"""


def test_steps_made_by_one_factory_with_different_closure_values_do_not_share_a_cache_entry(
    sqlite_stores,
):
    scaling_pipeline(2)()

    run = scaling_pipeline(3)()

    step_run = Client().get_run(run.id).steps["scale"]
    assert step_run.cache_outcome == "miss"
    assert step_run.cache_reason == "code changed"
    assert step_run.outputs["output"].load() == 6


def test_steps_made_by_one_factory_with_equal_closure_values_share_a_cache_entry(sqlite_stores):
    scaling_pipeline(2)()

    run = scaling_pipeline(2)()

    assert Client().get_run(run.id).steps["scale"].cache_outcome == "hit"


def test_a_step_whose_helper_changed_between_runs_is_a_miss(sqlite_stores, load_module):
    load_module("cache_helpers", "def transform(x):\n    return x + 1\n")
    load_module("cache_steps", STEP_MODULE).applying()

    load_module("cache_helpers", "def transform(x):\n    return x + 10\n")
    run = load_module("cache_steps", STEP_MODULE).applying()

    step_run = Client().get_run(run.id).steps["apply"]
    assert step_run.cache_outcome == "miss"
    assert step_run.cache_reason == "code changed"
    assert step_run.outputs["output"].load() == 11


def test_a_step_whose_module_level_constant_changed_between_runs_is_a_miss(
    sqlite_stores, load_module
):
    def steps(offset: int) -> Any:
        return load_module(
            "cache_constants",
            f"""
            from lineagelog.api import pipeline, step

            OFFSET = {offset}

            @step
            def shift(x: int = 1) -> int:
                return x + OFFSET

            @pipeline(name="shifting")
            def shifting() -> None:
                shift()
            """,
        )

    steps(1).shifting()

    run = steps(5).shifting()

    step_run = Client().get_run(run.id).steps["shift"]
    assert step_run.cache_outcome == "miss"
    assert step_run.cache_reason == "code changed"
    assert step_run.outputs["output"].load() == 6


def test_a_step_using_an_unhashable_closure_object_is_not_cached_and_says_why(sqlite_stores):
    database_url, artifact_store = sqlite_stores
    predicting_pipeline(Model(1))()

    run = predicting_pipeline(Model(100))()

    step_run = Client().get_run(run.id).steps["predict"]
    assert step_run.cache_outcome == "disabled"
    assert step_run.cache_reason == (
        "step `predict` is not cached: its code uses `model` (a Model object) whose value "
        "cannot be hashed canonically; make it a parameter, or set enable_cache=False"
    )
    assert step_run.outputs["output"].load() == 101
    explained = subprocess.run(
        [
            sys.executable,
            "-m",
            "lineagelog.api.cli",
            "cache",
            "explain",
            str(step_run.id),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={
            **os.environ,
            "LINEAGELOG_DATABASE_URL": database_url,
            "LINEAGELOG_ARTIFACT_STORE": artifact_store,
        },
    )
    decision = json.loads(explained.stdout)
    assert (decision["outcome"], decision["reason"]) == ("disabled", step_run.cache_reason)
