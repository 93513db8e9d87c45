"""Validate OpenLineage RunEvents against the specification vendored in this package.

The core schema (2-0-2) checks an event's shape and only the base shape of a
facet; each facet is then checked against its own schema, found by where it
sits and its key (run ``parent`` -> ``ParentRunFacet.json``, job ``jobType``
-> ``JobTypeJobFacet.json``, ...), lineagelog's ``lineagelog_`` facets against
the schemas shipped beside it. Schemas reference each other by ``$id``, which a
``referencing.Registry`` resolves from the files: validation needs no network.
A facet no schema here knows (another tool's custom facet) passes once its base
shape is valid, and is kept as it is.

Each schema is compiled once into Python code (``fastjsonschema``), which
decides in microseconds whether an event is valid; only a refused event goes
through ``jsonschema`` as well, whose ``best_match`` names the failing field,
and which has the last word (an event it accepts is accepted). A schema using a
keyword the compiler does not know (``dependentRequired``...) is checked by
``jsonschema`` alone.

Needs the ``openlineage`` extra (``jsonschema``, ``fastjsonschema``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from lineagelog.domain.errors import ConfigurationError, InvalidOpenLineageEventError

__all__ = ["CORE_SCHEMA_ID", "FacetSchemas", "check_run_event", "facet_schemas"]

CORE_SCHEMA_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
_RUN_EVENT = CORE_SCHEMA_ID + "#/$defs/RunEvent"

_NOT_COMPILED = (
    '"dependentRequired"',
    '"dependentSchemas"',
    '"unevaluatedProperties"',
    '"unevaluatedItems"',
    '"prefixItems"',
    '"$dynamicRef"',
    '"$recursiveRef"',
    '"minContains"',
    '"maxContains"',
)
"""Draft 2019-09/2020-12 keywords ``fastjsonschema`` (drafts 4 to 7) would ignore."""

_SPACE = re.compile(r"\s")

Check = Callable[[Any], bool]
"""A compiled validator: whether a value is valid (``fastjsonschema``)."""

# Where a facet sits -> the suffix of its class name in the schemas.
_PLACES = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "input": "InputDatasetFacet",
    "output": "OutputDatasetFacet",
}


class FacetSchemas:
    """The vendored schemas, and a validator for the core and each known facet."""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        """Index ``documents`` (JSON Schemas, each with an ``$id``)."""
        try:
            from jsonschema import Draft202012Validator, FormatChecker
            from referencing import Registry, Resource
        except ImportError as e:  # pragma: no cover - the extra is part of the test install
            raise ConfigurationError(
                "validating OpenLineage events needs jsonschema: "
                "pip install 'lineagelog[openlineage]'"
            ) from e
        self.documents = {doc["$id"]: doc for doc in documents}
        registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(doc)) for uri, doc in self.documents.items()
        )
        checker = FormatChecker(formats=())
        checker.checks("uuid")(_is_uuid)
        checker.checks("date-time")(_is_date_time)
        checker.checks("uri")(_is_uri)
        self._validator = functools.partial(
            Draft202012Validator, registry=registry, format_checker=checker
        )
        self.by_place: dict[tuple[str, str], str] = {}
        for uri, doc in self.documents.items():
            for key, place in _facet_places(doc):
                self.by_place.setdefault((place, key), uri)
        self._run_event = self._validator({"$ref": _RUN_EVENT})
        self._facets = {uri: self._validator({"$ref": uri}) for uri in self.by_place.values()}
        self._fast_run_event = self._compile(_RUN_EVENT)
        self._fast_facets = {uri: self._compile(uri) for uri in self.by_place.values()}

    def _compile(self, ref: str) -> Check | None:
        """``ref``'s schema compiled to code, or None: check it with ``jsonschema`` alone."""
        try:
            import fastjsonschema
        except ImportError:  # pragma: no cover - the extra is part of the test install
            return None
        # A facet schema refers to the core schema (its base facet) and to nothing else.
        for uri in {ref.split("#", 1)[0], CORE_SCHEMA_ID}:
            text = json.dumps(self.documents[uri])
            if any(keyword in text for keyword in _NOT_COMPILED):
                return None

        documents = self.documents
        own, _, pointer = ref.partition("#")
        if own.startswith("urn:"):  # fastjsonschema resolves "#/$defs/..." in http(s) ids only
            alias = "https://compiled.invalid/" + own.removeprefix("urn:").replace(":", "/")
            documents = {**documents, alias: {**documents[own], "$id": alias}}
            ref = f"{alias}#{pointer}" if pointer else alias

        def resolve(uri: str) -> Any:
            document = documents.get(uri.split("#", 1)[0])
            if document is None:  # every $ref of the shipped schemas is shipped: a bug
                raise KeyError(f"no shipped schema {uri!r}")
            return document

        compiled = fastjsonschema.compile(
            {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": ref},
            handlers={"https": resolve, "http": resolve},
            formats={"uuid": _is_uuid, "date-time": _is_date_time, "uri": _is_uri},
            use_default=False,
        )
        invalid = fastjsonschema.JsonSchemaValueException

        def check(value: Any) -> bool:
            try:
                compiled(value)
            except invalid:
                return False
            return True

        return check

    def schema_for(self, place: str, key: str) -> str | None:
        """The ``$id`` of the schema of facet ``key`` at ``place`` (run, job, dataset...)."""
        return self.by_place.get((place, key))

    def check(self, event: Any) -> None:
        """Raise when ``event`` is no valid RunEvent, or one of its known facets is invalid.

        Raises:
            InvalidOpenLineageEventError: naming the failing field (a JSON path such as
                ``run.facets.parent.run.runId``) and why.

        """
        if not isinstance(event, dict):
            raise InvalidOpenLineageEventError(
                f"an OpenLineage event is a JSON object, got {type(event).__name__}; "
                "send one RunEvent per request (or per line of a file)",
                field="",
            )
        if "run" not in event and ("job" in event or "dataset" in event):
            raise InvalidOpenLineageEventError(
                "the event has no 'run': it is a DatasetEvent or JobEvent, and lineagelog "
                "takes RunEvents only; send the run's START/COMPLETE events instead",
                field="run",
            )
        if self.quick_valid(event):
            return
        # Refused: find the failing field (jsonschema has the last word).
        _raise_first(self._run_event.iter_errors(event), "")
        for path, place, key, facet in _facets(event):
            uri = self.by_place.get((place, key))
            if uri is not None:
                _raise_first(self._facets[uri].iter_errors({key: facet}), path)

    def quick_valid(self, event: dict[str, Any]) -> bool:
        """Whether the compiled validators take the RunEvent ``event`` and every known facet.

        Schemas not compiled (``compiled``) are checked with ``jsonschema``. It
        says nothing of why: ``check`` asks ``jsonschema`` for that.
        """
        fast = self._fast_run_event
        if not (self._run_event.is_valid(event) if fast is None else fast(event)):
            return False
        for _, place, key, facet in _facets(event):
            uri = self.by_place.get((place, key))
            if uri is not None:
                fast = self._fast_facets[uri]
                one = {key: facet}
                if not (self._facets[uri].is_valid(one) if fast is None else fast(one)):
                    return False
        return True

    def compiled(self) -> list[str]:
        """The ``$id`` of the core and each facet schema checked by compiled code."""
        found = [CORE_SCHEMA_ID] if self._fast_run_event is not None else []
        return found + sorted(uri for uri, fast in self._fast_facets.items() if fast is not None)


@functools.cache
def facet_schemas() -> FacetSchemas:
    """The specification's schemas and lineagelog's own facet schemas, loaded once."""
    root = resources.files("lineagelog.adapters.openlineage")
    documents = [json.loads((root / "spec" / "OpenLineage.json").read_text("utf-8"))]
    for folder in (root / "spec" / "facets", root / "facets"):
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                documents.append(json.loads(entry.read_text("utf-8")))
    return FacetSchemas(documents)


def check_run_event(event: Any) -> None:
    """Validate one parsed RunEvent against the vendored specification (see ``FacetSchemas``).

    Raises:
        InvalidOpenLineageEventError: the event, or one of its facets, is invalid.

    """
    facet_schemas().check(event)


def _facet_places(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, place) of each facet a facet schema defines at its root."""
    for key, spec in (doc.get("properties") or {}).items():
        refs = [spec.get("$ref")] + [option.get("$ref") for option in spec.get("anyOf", ())]
        for ref in refs:
            if not isinstance(ref, str):
                continue
            class_name = ref.rsplit("/", 1)[-1]
            for place in ("input", "output", "dataset", "job", "run"):
                if class_name.endswith(_PLACES[place]):
                    yield key, place
                    break


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(path, place, key, facet) for every facet of a RunEvent that passed the core schema."""
    yield from _named(event["run"].get("facets"), "run.facets", "run")
    yield from _named(event["job"].get("facets"), "job.facets", "job")
    for side, own in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for i, dataset in enumerate(event.get(side) or ()):
            yield from _named(dataset.get("facets"), f"{side}[{i}].facets", "dataset")
            place = "input" if side == "inputs" else "output"
            yield from _named(dataset.get(own), f"{side}[{i}].{own}", place)


def _named(facets: Any, path: str, place: str) -> Iterator[tuple[str, str, str, Any]]:
    for key, facet in (facets or {}).items():
        yield f"{path}.{key}", place, key, facet


def _raise_first(errors: Iterator[Any], prefix: str) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(errors)
    if error is None:
        return
    steps = list(error.absolute_path)
    if error.validator == "required":  # name the missing field itself
        missing = error.message.split("'")[1] if "'" in error.message else ""
        steps.append(missing)
    if prefix:
        steps = steps[1:]  # the facet's own key: the prefix already ends with it
    field = prefix + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
    field = field.lstrip(".")
    raise InvalidOpenLineageEventError(
        f"OpenLineage event field {field or '(the event)'!r} is invalid: {error.message}; "
        "nothing was recorded. Fix the producer (the specification: "
        "https://openlineage.io/spec/2-0-2/OpenLineage.json)",
        field=field,
    )


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper() and moment.tzinfo is not None


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return _SPACE.search(value) is None and bool(urlsplit(value).scheme)
