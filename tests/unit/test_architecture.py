from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES = ["lineagelog.api", "lineagelog.domain.errors"]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_modules_export_a_sorted_all(module_name):
    module = importlib.import_module(module_name)

    names = list(module.__all__)

    assert names == sorted(names)
    assert all(hasattr(module, name) for name in names)


def test_importing_the_api_does_not_load_the_database_layers():
    code = (
        "import sys, lineagelog.api; "
        "print(','.join(m for m in ('sqlalchemy', 'networkx', 'eventsourcing.persistence') "
        "if m in sys.modules))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""


def test_the_domain_imports_only_the_standard_library_pydantic_and_eventsourcing_domain():
    allowed_prefixes = ("lineagelog.domain", "pydantic", "eventsourcing.domain")
    offenders = []
    for path in sorted((ROOT / "domain").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or name.startswith(allowed_prefixes):
                    continue
                offenders.append(f"{path.name}: {name}")

    assert offenders == []
