"""Artifact URIs as the log records them: relative to the artifact store's root.

A version's files lie at ``<root>/<name>/<artifact version id>``. The log
records ``<name>/<artifact version id>`` (and ``<name>/<id>/visualizations/...``
for visualizations), never the root, so a project folder can be moved, copied
or imported elsewhere and every recorded URI still names the same files there.

Logs written before this recorded absolute URIs (``file:///home/me/.lineagelog/
artifacts/model/<id>``). ``portable_uri`` turns those that follow the store's
layout into the relative form, so old logs work after a move too; an absolute
URI that does not follow it (data registered where it lay) stays as it is and
is used only while it lies under the store's root.
"""

from __future__ import annotations

import re
from typing import Any

from lineagelog.domain.errors import ArtifactUriError

__all__ = ["check_relative_uri", "is_relative_uri", "portable_uri", "portable_visualizations"]

_BACKSLASH_OR_CONTROL = re.compile(r"[\\\x00-\x1f\x7f]")
"""A backslash, a C0 control character or DEL: one search instead of a loop over characters
(a cache hit checks each reused output's URI)."""


def is_relative_uri(uri: str) -> bool:
    """Whether ``uri`` is in the recorded relative form (no scheme, no leading ``/``).

    Examples:
        >>> is_relative_uri("model/0b7c")
        True
        >>> is_relative_uri("file:///tmp/store/model/0b7c")
        False
    """
    return "://" not in uri and not uri.startswith("/")


def check_relative_uri(uri: str) -> str:
    """Return ``uri`` if it is a relative URI that stays below the store's root, else raise.

    Raises:
        ArtifactUriError: naming the URI, when it is empty, absolute, has a
            scheme, a backslash, a control character, or an empty, ``.`` or
            ``..`` segment.

    Examples:
        >>> check_relative_uri("model/0b7c/visualizations/preview.md")
        'model/0b7c/visualizations/preview.md'
        >>> check_relative_uri("../etc/passwd")
        Traceback (most recent call last):
        ...
        lineagelog.domain.errors.ArtifactUriError: recorded artifact URI '../etc/passwd' ...
    """
    why = _unsafe(uri)
    if why is not None:
        raise ArtifactUriError(
            f"recorded artifact URI {uri!r} {why}; recorded URIs are paths below the artifact "
            "store's root such as 'model/<version id>', so it was not followed. The log or the "
            "views were edited: run `lineagelog audit`"
        )
    return uri


def _unsafe(uri: str) -> str | None:
    if not isinstance(uri, str) or not uri:
        return "is empty or not text"
    if "://" in uri:
        return "has a scheme"
    if uri.startswith("/"):
        return "is an absolute path"
    if _BACKSLASH_OR_CONTROL.search(uri):
        return "holds a backslash or a control character"
    if any(part in ("", ".", "..") for part in uri.split("/")):
        return "holds an empty, '.' or '..' segment"
    return None


def portable_uri(uri: str, name: str, artifact_version_id: object) -> str:
    """The store-relative form of a recorded URI of version ``artifact_version_id`` of ``name``.

    A relative URI is returned as it is. An absolute one (older logs) that ends
    in the layout's ``/<name>/<artifact version id>`` (or continues below it) is
    cut to start at ``<name>``; any other absolute URI is returned unchanged.

    Examples:
        >>> portable_uri("file:///old/place/artifacts/model/0b7c", "model", "0b7c")
        'model/0b7c'
        >>> portable_uri("s3://b/p/model/0b7c/visualizations/a.png", "model", "0b7c")
        'model/0b7c/visualizations/a.png'
        >>> portable_uri("file:///data/raw", "raw", "0b7c")
        'file:///data/raw'
    """
    if not isinstance(uri, str) or is_relative_uri(uri):
        return uri
    layout = f"/{name}/{artifact_version_id}"
    at = uri.rfind(layout + "/")
    if at < 0:
        at = len(uri) - len(layout) if uri.endswith(layout) else -1
    return uri if at < 0 else uri[at + 1 :]


def portable_visualizations(visualizations: Any, name: str, artifact_version_id: object) -> Any:
    """``visualizations`` (``{"uri", "type"}`` dicts) with each URI in its portable form."""
    if not isinstance(visualizations, list):
        return visualizations
    return [
        {**v, "uri": portable_uri(v["uri"], name, artifact_version_id)}
        if isinstance(v, dict) and isinstance(v.get("uri"), str)
        else v
        for v in visualizations
    ]
