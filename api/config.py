"""Settings: where the log and the artifacts live. Only ``api/`` reads the environment.

Precedence: explicit arguments, then ``configure(...)``, then the environment
(``LINEAGELOG_DATABASE_URL``, ``LINEAGELOG_ARTIFACT_STORE``, ``LINEAGELOG_HOME``),
then the defaults under ``./.lineagelog``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "configure", "resolve_settings"]

_configured: dict[str, str | None] = {"database_url": None, "artifact_store": None, "home": None}


@dataclass(frozen=True)
class Settings:
    """The resolved locations of the event log and the artifact store."""

    home: Path
    database_url: str
    artifact_store: str

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
) -> Settings:
    """Set the process-wide defaults used by pipelines and ``Client()``.

    Arguments left as None keep their previous value. Returns the settings now
    in force.

    Examples:
        >>> settings = configure(database_url="memory://", artifact_store="memory://doc")
        >>> settings.database_url
        'memory://'
        >>> _ = configure(database_url=None, artifact_store=None, home=None)  # back to env
    """
    _configured["database_url"] = database_url
    _configured["artifact_store"] = artifact_store
    _configured["home"] = None if home is None else str(home)
    return resolve_settings()


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
    db = (
        database_url
        or _configured["database_url"]
        or os.environ.get("LINEAGELOG_DATABASE_URL")
        or f"sqlite:///{home_path / 'lineage.db'}"
    )
    store = (
        artifact_store
        or _configured["artifact_store"]
        or os.environ.get("LINEAGELOG_ARTIFACT_STORE")
        or str(home_path / "artifacts")
    )
    return Settings(home=home_path, database_url=db, artifact_store=store)
