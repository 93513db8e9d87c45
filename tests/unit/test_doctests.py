"""The examples in docstrings are run, so they cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

LAYERS = ("domain", "projections", "adapters")


def _modules_with_examples() -> list[str]:
    found = []
    for layer in LAYERS:
        package = importlib.import_module(f"lineagelog.{layer}")
        for info in pkgutil.walk_packages(package.__path__, f"lineagelog.{layer}."):
            module = importlib.import_module(info.name)
            tests = doctest.DocTestFinder().find(module)
            if any(not e.options.get(doctest.SKIP) for t in tests for e in t.examples):
                found.append(info.name)
    return sorted(found)


MODULES = _modules_with_examples()


def test_every_layer_has_modules_with_runnable_examples():
    assert {name.split(".")[1] for name in MODULES} >= {"domain", "projections", "adapters"}


@pytest.mark.parametrize("module_name", MODULES)
def test_the_examples_in_a_modules_docstrings_hold(module_name):
    module = importlib.import_module(module_name)

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)

    assert result.failed == 0
    assert result.attempted > 0
