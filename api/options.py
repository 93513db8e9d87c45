"""What ``configure`` / ``with_options`` accept on steps and pipelines, checked one way.

Shared by ``lineagelog.api.step`` and ``lineagelog.api.building``: ZenML's
options that belong to parts of ZenML lineagelog does not have are refused with
what to do, never accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lineagelog.domain.canonical import to_jsonable
from lineagelog.domain.errors import PipelineDefinitionError

__all__ = [
    "ARTIFACT_SWITCHES",
    "check_options",
    "checked_cache_setting",
    "checked_switch",
    "checked_switches",
    "configure_switches",
    "jsonable_mapping",
    "merged",
    "recordable_mapping",
    "substitution_texts",
]

_OUT_OF_SCOPE = {
    "model": (
        "ZenML's Model Control Plane (model=) is not part of lineagelog; remove model= and "
        "keep the model as a named artifact (-> Annotated[MyModel, 'model'])"
    ),
    "settings": (
        "Docker, resource, orchestrator and step-operator settings (settings=) do not apply: "
        "lineagelog runs steps in this process or on Dask (executor='dask'); remove settings="
    ),
    "config_path": (
        "YAML run configurations (config_path=) are not read by lineagelog; pass the options "
        "as keyword arguments instead"
    ),
    "schedule": "schedules (schedule=) are not part of lineagelog; start runs from a scheduler",
    "build": "Docker builds (build=) are not part of lineagelog; remove build=",
    "step_operator": (
        "step operators are not part of lineagelog: steps run in this process, or on Dask "
        "with executor='dask'"
    ),
    "experiment_tracker": "experiment trackers are not part of lineagelog; remove the option",
}
"""ZenML options that belong to parts of ZenML lineagelog does not have, and what to do."""


def check_options(owner: str, options: Mapping[str, Any], supported: list[str]) -> None:
    """Refuse every option ``owner`` does not support, unless it is None or empty.

    ZenML's options for stack components, hooks, the Model Control Plane or
    Docker are refused with what to do instead, never accepted and ignored.

    Raises:
        PipelineDefinitionError: naming the option, why, and the supported ones.
    """
    for name, value in options.items():
        if value is None or (isinstance(value, Mapping | list | tuple) and not value):
            continue
        why = _OUT_OF_SCOPE.get(name, "lineagelog does not support it")
        raise PipelineDefinitionError(
            f"{owner}: option {name}={value!r} is refused: {why}. "
            f"Supported options: {', '.join(supported)}"
        )


def jsonable_mapping(owner: str, option: str, given: Any) -> dict[str, Any]:
    """A copy of ``given`` as a dict of JSON values, or a clear error naming what is wrong."""
    if not isinstance(given, Mapping):
        raise PipelineDefinitionError(
            f"{owner}: {option} must be a dict, got {type(given).__name__} {given!r}"
        )
    result: dict[str, Any] = {}
    for key, value in given.items():
        if not isinstance(key, str):
            raise PipelineDefinitionError(
                f"{owner}: the keys of {option} must be strings, got {key!r}"
            )
        try:
            result[key] = to_jsonable(value)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"{owner}: {option}[{key!r}] is not JSON-serializable ({e}); "
                "use plain values (numbers, strings, lists, dicts)"
            ) from None
    return result


def recordable_mapping(owner: str, option: str, given: Any) -> dict[str, Any]:
    """A copy of ``given`` with its values as given, once each is known to be recordable.

    For ``parameters``: the step receives the values themselves (a tuple stays a
    tuple), and the log records them as ``jsonable_mapping`` would.
    """
    jsonable_mapping(owner, option, given)
    return dict(given)


def checked_cache_setting(owner: str, enable_cache: Any) -> bool:
    """``enable_cache`` as given to ``configure``: True or False, else a clear error."""
    return checked_switch(owner, "enable_cache", enable_cache)


def checked_switch(owner: str, option: str, value: Any) -> bool:
    """An on/off option (``enable_cache``, ``enable_artifact_metadata``...): True or False.

    Raises:
        PipelineDefinitionError: naming the option and the value given.
    """
    if not isinstance(value, bool):
        raise PipelineDefinitionError(f"{owner}: {option}={value!r} must be True, False or None")
    return value


ARTIFACT_SWITCHES = ("enable_artifact_metadata", "enable_artifact_visualization")
"""ZenML's options that turn off what materializers record besides the data."""


def checked_switches(owner: str, given: Mapping[str, Any]) -> dict[str, bool]:
    """The artifact switches given (not None) in ``given``, each checked by ``checked_switch``."""
    return {
        option: checked_switch(owner, option, given[option])
        for option in ARTIFACT_SWITCHES
        if given.get(option) is not None
    }


def configure_switches(owner: str, target: Any, given: Mapping[str, Any]) -> None:
    """Set each on/off option given (not None) on ``target`` (a step or a pipeline).

    ``given`` maps ``enable_cache`` and the artifact switches to what ``configure``
    received; each is checked by ``checked_switch`` first.

    Raises:
        PipelineDefinitionError: naming the option and the bad value.
    """
    for option in ("enable_cache", *ARTIFACT_SWITCHES):
        if given.get(option) is not None:
            setattr(target, option, checked_switch(owner, option, given[option]))


def merged(current: Mapping[str, Any], given: Mapping[str, Any], merge: bool) -> dict[str, Any]:
    """``given`` merged into ``current`` (``merge``), or replacing it: ZenML's ``merge=``."""
    return {**current, **given} if merge else dict(given)


def substitution_texts(owner: str, given: Any) -> dict[str, str]:
    """``substitutions`` as given to ``configure``: a dict of names to texts."""
    return {
        str(key): str(value)
        for key, value in jsonable_mapping(owner, "substitutions", given).items()
    }
