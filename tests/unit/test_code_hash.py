from __future__ import annotations

import doctest
import enum
import importlib
import importlib.util
import json
import math
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lineagelog.api.code_hash as code_hash_module
import lineagelog.api.code_origin as code_origin_module
import lineagelog.domain.code_values as code_values_module
from lineagelog.api import step
from lineagelog.api.code_hash import code_hash_of


class Model:
    def predict(self, x: int) -> int:
        return x + 1


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


def scaler(factor: Any) -> Any:
    def scale(x: int) -> Any:
        return x * factor

    return scale


def test_functions_with_one_source_and_different_closure_values_hash_differently():
    assert code_hash_of(scaler(2)).digest != code_hash_of(scaler(3)).digest


def test_functions_with_one_source_and_equal_closure_values_hash_alike():
    assert code_hash_of(scaler((1, "a"))) == code_hash_of(scaler((1, "a")))


def test_constants_are_hashed_with_their_types():
    digests = {code_hash_of(scaler(value)).digest for value in (1, 1.0, True, "1", b"1")}

    assert len(digests) == 5
    assert code_hash_of(scaler((1, 2))).digest != code_hash_of(scaler([1, 2])).digest


def test_dicts_and_sets_hash_alike_whatever_their_order():
    assert code_hash_of(scaler({"a": 1, "b": 2})) == code_hash_of(scaler({"b": 2, "a": 1}))
    assert code_hash_of(scaler({3, 1, 2})) == code_hash_of(scaler({2, 3, 1}))


def test_enum_members_are_constants():
    red, blue = code_hash_of(scaler(Colour.RED)), code_hash_of(scaler(Colour.BLUE))

    assert red.unhashable is None
    assert red.digest != blue.digest


def test_a_changed_helper_source_changes_the_hash_of_its_caller(load_module):
    caller = """
        from helpers_under_test import transform

        def apply(x):
            return transform(x)
    """
    load_module("helpers_under_test", "def transform(x):\n    return x + 1\n")
    before = code_hash_of(load_module("caller_under_test", caller).apply)

    load_module("helpers_under_test", "def transform(x):\n    return x + 10\n")
    after = code_hash_of(load_module("caller_under_test", caller).apply)

    assert before.digest != after.digest


def test_helpers_are_followed_transitively_and_attribute_reads_of_user_modules(load_module):
    caller = """
        import deep_under_test

        def apply(x):
            return deep_under_test.outer(x)
    """

    def version(offset: int) -> str:
        load_module(
            "deep_under_test",
            f"""
            def outer(x):
                return inner(x)

            def inner(x):
                return x + {offset}
            """,
        )
        return code_hash_of(load_module("caller_under_test", caller).apply).digest

    assert version(1) != version(2)


def test_a_changed_module_level_constant_changes_the_hash(load_module):
    def version(offset: int) -> str:
        source = f"""
            OFFSET = {offset}

            def apply(x):
                return [x + OFFSET for _ in range(2)]
        """
        return code_hash_of(load_module("constants_under_test", source).apply).digest

    assert version(1) != version(2)
    assert version(1) == version(1)


@pytest.fixture
def package_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path; the packages imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("pkg_under_test_")]:
        del sys.modules[name]


def test_a_relative_import_inside_the_body_is_followed_to_the_helper(package_root: Path):
    def version(offset: int) -> str:
        package = package_root / f"pkg_under_test_{uuid.uuid4().hex}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "helpers.py").write_text(f"def transform(x):\n    return x + {offset}\n")
        (package / "steps.py").write_text(
            "def apply(x):\n    from .helpers import transform\n\n    return transform(x)\n"
        )
        steps = importlib.import_module(f"{package.name}.steps")
        steps.apply(1)  # imports the helper, as the step's first run would
        return code_hash_of(steps.apply).digest

    assert version(1) != version(2)


def test_changed_default_values_of_a_helper_change_the_hash(load_module):
    def version(default: int) -> str:
        source = f"""
            def helper(x, k={default}):
                return x * k

            def apply(x):
                return helper(x)
        """
        return code_hash_of(load_module("defaults_under_test", source).apply).digest

    assert version(1) != version(2)


def test_mutually_recursive_user_functions_are_hashed_once_each(load_module):
    module = load_module(
        "recursive_under_test",
        """
        def even(n):
            return True if n == 0 else odd(n - 1)

        def odd(n):
            return False if n == 0 else even(n - 1)
        """,
    )

    assert code_hash_of(module.even).unhashable is None


def test_library_modules_and_callables_are_hashed_by_name():
    def compute(x: float) -> str:
        return json.dumps([math.sqrt(x), sorted([x]), uuid.uuid4 is not None])

    hashed = code_hash_of(compute)

    assert hashed.unhashable is None
    assert hashed == code_hash_of(compute)


def test_a_user_class_used_by_the_code_is_hashed_by_its_source(load_module):
    def version(offset: int) -> str:
        source = f"""
            class Scaler:
                def apply(self, x):
                    return x + {offset}

            def apply(x):
                return Scaler().apply(x)
        """
        return code_hash_of(load_module("classes_under_test", source).apply).digest

    assert version(1) != version(2)


def test_an_arbitrary_object_in_a_closure_makes_the_hash_incomplete():
    hashed = code_hash_of(scaler(Model()))

    assert hashed.unhashable is not None
    assert hashed.unhashable.path == ("factor",)
    assert hashed.unhashable.type_name == "Model"


def test_an_arbitrary_object_reached_through_a_helper_is_named_with_the_path(load_module):
    module = load_module(
        "objects_under_test",
        """
        class Model:
            pass

        MODEL = Model()

        def helper(x):
            return (x, MODEL)

        def apply(x):
            return helper(x)
        """,
    )

    hashed = code_hash_of(module.apply)

    assert hashed.unhashable is not None
    assert hashed.unhashable.describe("apply") == (
        "step `apply` is not cached: its code uses `MODEL` (reached through `helper`) "
        "(a Model object) whose value cannot be hashed canonically; make it a parameter, "
        "or set enable_cache=False"
    )


def test_a_step_reports_why_it_cannot_be_cached():
    model = Model()

    @step
    def train(x: int = 1) -> int:
        return model.predict(x)

    assert train.uncacheable_reason == (
        "step `train` is not cached: its code uses `model` (a Model object) whose value "
        "cannot be hashed canonically; make it a parameter, or set enable_cache=False"
    )


def test_a_step_whose_code_uses_only_constants_and_library_code_is_cacheable():
    @step
    def summarize(values: list[float]) -> float:
        return math.fsum(values) / max(len(values), 1)

    assert summarize.uncacheable_reason is None


def test_plain_values_without_code_are_constants(load_module):
    module = load_module(
        "plain_values_under_test",
        """
        import logging
        import re
        from pathlib import Path
        from typing import NamedTuple

        class Point(NamedTuple):
            x: int
            y: int

        LOG = logging.getLogger(__name__)
        DATA = Path("data") / "raw.csv"
        DIGITS = re.compile(r"[0-9]+")
        ORIGIN = Point(0, 0)

        def apply(text):
            LOG.info("parsing %s", DATA)
            return DIGITS.findall(text), ORIGIN
        """,
    )

    assert code_hash_of(module.apply).unhashable is None


def test_a_step_called_as_a_plain_function_is_hashed_by_its_function(load_module):
    def version(offset: int) -> str:
        source = f"""
            from lineagelog.api import step

            @step
            def inner(x: int) -> int:
                return x + {offset}

            def apply(x):
                return inner(x)
        """
        return code_hash_of(load_module("steps_under_test", source).apply).digest

    assert version(1) != version(2)


@pytest.mark.parametrize("module", [code_hash_module, code_origin_module, code_values_module])
def test_doctests_of_the_code_hash_modules_run(module):
    result = doctest.testmod(module)

    assert result.attempted > 0 and result.failed == 0
