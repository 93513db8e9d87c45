from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_MODULES = ["lineagelog.api", "lineagelog.domain.errors"]


def test_layers_api_adapters_projections_domain_hold():
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail(
            "import-linter is not installed; install the test extra: pip install -e '.[test]'"
        )

    result = subprocess.run(
        [lint_imports, "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


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


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return path


def test_ruff_finds_nothing_to_fix():
    check = subprocess.run([_tool("ruff"), "check", str(ROOT)], capture_output=True, text=True)
    formatted = subprocess.run(
        [_tool("ruff"), "format", "--check", str(ROOT)], capture_output=True, text=True
    )

    assert check.returncode == 0, check.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_mypy_strict_is_clean(tmp_path):
    (tmp_path / "lineagelog").symlink_to(ROOT)
    packages = [f"lineagelog/{p}" for p in ("domain", "projections", "adapters", "api")]

    result = subprocess.run(
        [
            _tool("mypy"),
            "--explicit-package-bases",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            *packages,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout
