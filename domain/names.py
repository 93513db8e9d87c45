"""Artifact names: what may stand in a store path, and the id of a name's stream."""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID, uuid5

from lineagelog.domain.errors import InvalidArtifactNameError

__all__ = [
    "MAX_NAME_LENGTH",
    "artifact_name_id",
    "check_artifact_name",
    "control_characters",
    "default_artifact_name",
    "step_code_id",
    "tag_name_id",
]

MAX_NAME_LENGTH = 200
ARTIFACT_NAMESPACE = UUID("6f1c1c1e-3b1a-5a7e-9d0e-1e2c3b4a5d6f")
TAG_NAMESPACE = UUID("2b7e4c1a-8d3f-5e6a-9c0b-4f1d2e3a5b6c")
CODE_NAMESPACE = UUID("9d4a7e2c-1f3b-5c8d-a6e0-3b2c1d4e5f7a")
_ALLOWED = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")


def check_artifact_name(name: object) -> str:
    """Return ``name`` if it is a safe artifact name, else raise.

    A name becomes one folder of the artifact store, so it may hold letters,
    digits, ``_``, ``-``, ``.`` and ``:``, must not start with ``.`` or ``-``,
    must not contain ``..`` and is at most 200 characters long.

    Raises:
        InvalidArtifactNameError: naming the bad name and what to use instead.

    Examples:
        >>> check_artifact_name("training_data")
        'training_data'
        >>> check_artifact_name("../etc")
        Traceback (most recent call last):
        ...
        lineagelog.domain.errors.InvalidArtifactNameError: artifact name '../etc' ...
    """
    if not isinstance(name, str):
        raise InvalidArtifactNameError(
            f"artifact name {name!r} is a {type(name).__name__}; use a string such as 'model'"
        )
    if not name:
        raise InvalidArtifactNameError("artifact name is empty; give a name such as 'model'")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArtifactNameError(
            f"artifact name {name[:40]!r}... is {len(name)} characters long; "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidArtifactNameError(
            f"artifact name {name!r} contains a control character; "
            "use letters, digits, '_', '-', '.' and ':'"
        )
    if ".." in name or not _ALLOWED.match(name):
        raise InvalidArtifactNameError(
            f"artifact name {name!r} could escape the artifact store or is not portable; "
            "use letters, digits, '_', '-', '.' and ':' (no '/', '\\' or '..', "
            "not starting with '.' or '-')"
        )
    return name


def control_characters(text: str) -> list[str]:
    r"""The control characters in ``text`` (terminal escapes among them), each once, escaped.

    Examples:
        >>> control_characters("run\x1b[31m")
        ['\\x1b']
        >>> control_characters("run 1")
        []
    """
    found = {ch for ch in text if unicodedata.category(ch) == "Cc"}
    return sorted(ch.encode("unicode_escape").decode("ascii") for ch in found)


def default_artifact_name(pipeline: str, step: str, output: str) -> str:
    """The name of an output that was not named with ``Annotated``.

    ZenML's ``{pipeline}::{step}::{output}``. When that is not a valid name
    (a pipeline or step named with spaces, ``/``...), each character a name
    may not hold is replaced by ``_`` in each part (``:`` too, so the parts
    stay apart); a valid name is kept as it is.

    Examples:
        >>> default_artifact_name("training", "load", "output")
        'training::load::output'
        >>> default_artifact_name("my training", "load data", "output")
        'my_training::load_data::output'
    """
    name = f"{pipeline}::{step}::{output}"
    if ".." not in name and _ALLOWED.match(name) and len(name) <= MAX_NAME_LENGTH:
        return name
    return "::".join(_portable_part(part) for part in (pipeline, step, output))


_NOT_PORTABLE = re.compile(r"[^A-Za-z0-9_.\-]")


def _portable_part(part: str) -> str:
    """``part`` with every character a name may not hold (``:`` too) replaced by ``_``."""
    cleaned = _NOT_PORTABLE.sub("_", part).replace("..", "__")
    return "_" + cleaned[1:] if cleaned[:1] in (".", "-") else cleaned


def artifact_name_id(name: str) -> UUID:
    """The id of the ``ArtifactName`` stream for ``name`` (uuid5, same everywhere)."""
    return uuid5(ARTIFACT_NAMESPACE, name)


def tag_name_id(name: str) -> UUID:
    """The id of the ``TagName`` stream for tag ``name`` (uuid5, apart from artifact names)."""
    return uuid5(TAG_NAMESPACE, name)


def step_code_id(code_hash: str) -> UUID:
    """The id of the ``StepCode`` stream for a code hash (uuid5: one stream per distinct code)."""
    return uuid5(CODE_NAMESPACE, code_hash)
