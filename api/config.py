"""Settings: where the log and the artifacts live. Only ``api/`` reads the environment.

Precedence: explicit arguments, then ``configure(...)``, then the environment
(``LINEAGELOG_DATABASE_URL``, ``LINEAGELOG_ARTIFACT_STORE``, ``LINEAGELOG_HOME``),
then the defaults under ``./.lineagelog``.

The project-wide pickle fallback (off by default) is read on every save, from
``configure(pickle_fallback=...)``, else ``LINEAGELOG_PICKLE_FALLBACK``
(``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``); see
``lineagelog.adapters.materializers.fallback``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineagelog.adapters.materializers.registry import MaterializerRegistry
from lineagelog.domain.errors import ConfigurationError

__all__ = [
    "PICKLE_FALLBACK_VARIABLE",
    "Settings",
    "configure",
    "materializer_registry",
    "pickle_fallback_enabled",
    "resolve_settings",
]

PICKLE_FALLBACK_VARIABLE = "LINEAGELOG_PICKLE_FALLBACK"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

_configured: dict[str, str | None] = {"database_url": None, "artifact_store": None, "home": None}
_pickle_fallback: bool | None = None


@dataclass(frozen=True)
class Settings:
    """The resolved locations of the event log and the artifact store."""

    home: Path
    database_url: str
    artifact_store: str
    database_source: str = "the argument"
    """Where ``database_url`` came from, for messages: an argument, ``configure``, a variable."""

    def __repr__(self) -> str:
        # Both URLs may carry credentials; a logged or printed Settings must not.
        from lineagelog.domain.redaction import redact_url

        return (
            f"Settings(home={self.home!r}, database_url={redact_url(self.database_url)!r}, "
            f"artifact_store={redact_url(self.artifact_store)!r})"
        )


def configure(
    *,
    database_url: str | None = None,
    artifact_store: str | None = None,
    home: str | os.PathLike[str] | None = None,
    pickle_fallback: bool | None = None,
    executor: Any = None,
) -> Settings:
    """Set the process-wide defaults used by pipelines and ``Client()``.

    Arguments left as None fall back to the environment, then the defaults.
    Returns the settings now in force.

    Args:
        database_url: the event log and views.
        artifact_store: where artifact bytes go.
        home: the folder of the default database and artifact store.
        pickle_fallback: True saves values of types without a materializer
            with cloudpickle (warning once per type; the artifact's event names
            ``PickleFallbackMaterializer``), as ZenML does; False refuses them
            (the default). Loading a pickle always needs ``allow_pickle``.
        executor: where pipelines run their steps unless they say otherwise:
            ``"local"``, ``"dask"``, ``"dask://HOST:PORT"`` or a ``DaskExecutor``
            (None: ``LINEAGELOG_EXECUTOR``, else local).

    Raises:
        ConfigurationError: when ``pickle_fallback`` is not True, False or None.
        ExecutorError: when ``executor`` names no executor.

    Examples:
        >>> settings = configure(database_url="memory://", artifact_store="memory://doc")
        >>> settings.database_url
        'memory://'
        >>> _ = configure(database_url=None, artifact_store=None, home=None)  # back to env
    """
    global _pickle_fallback
    if pickle_fallback is not None and not isinstance(pickle_fallback, bool):
        raise ConfigurationError(
            f"configure(pickle_fallback={pickle_fallback!r}): pass True, False or None"
        )
    from lineagelog.api.executors import configure_executor

    configure_executor(executor)
    _configured["database_url"] = database_url
    _configured["artifact_store"] = artifact_store
    _configured["home"] = None if home is None else str(home)
    _pickle_fallback = pickle_fallback
    return resolve_settings()


def pickle_fallback_enabled() -> bool:
    """Whether types without a materializer are pickled: ``configure``, else the environment.

    Raises:
        ConfigurationError: when ``LINEAGELOG_PICKLE_FALLBACK`` holds neither a
            yes nor a no.

    """
    if _pickle_fallback is not None:
        return _pickle_fallback
    value = os.environ.get(PICKLE_FALLBACK_VARIABLE, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{PICKLE_FALLBACK_VARIABLE}={os.environ[PICKLE_FALLBACK_VARIABLE]!r} is neither on nor "
        f"off; set it to 1 (pickle types without a materializer) or 0, or unset it"
    )


materializer_registry = MaterializerRegistry(pickle_fallback=pickle_fallback_enabled)
"""ZenML's ``materializer_registry``, falling back to pickle while the fallback is on."""


def resolve_settings(
    database_url: str | None = None,
    artifact_store: str | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Settings:
    """Resolve settings from arguments, ``configure``, the environment and defaults."""
    home_path = (
        Path(
            home
            or _configured["home"]
            or os.environ.get("LINEAGELOG_HOME")
            or Path.cwd() / ".lineagelog"
        )
        .expanduser()
        .resolve()
    )
    db, source = _first(
        (database_url, "the --database-url option or database_url= argument"),
        (_configured["database_url"], "configure(database_url=...)"),
        (os.environ.get("LINEAGELOG_DATABASE_URL"), "LINEAGELOG_DATABASE_URL"),
        (f"sqlite:///{home_path / 'lineage.db'}", _home_source(home)),
    )
    store = (
        artifact_store
        or _configured["artifact_store"]
        or os.environ.get("LINEAGELOG_ARTIFACT_STORE")
        or str(home_path / "artifacts")
    )
    return Settings(home=home_path, database_url=db, artifact_store=store, database_source=source)


def _first(*choices: tuple[str | None, str]) -> tuple[str, str]:
    for value, source in choices:
        if value:
            return value, source
    raise AssertionError("the last choice is always set")


def _home_source(home: str | os.PathLike[str] | None) -> str:
    if home or _configured["home"]:
        return "the home folder given"
    if os.environ.get("LINEAGELOG_HOME"):
        return "LINEAGELOG_HOME"
    return "the default home ./.lineagelog"
