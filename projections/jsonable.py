"""Query results as JSON-ready data, for scripts and ``--json`` output.

Unlike ``domain.canonical.to_jsonable``, which feeds hashes and so refuses
anything it cannot encode one way only, this is for showing: it converts what
queries return (ids, datetimes, paths, records) and leaves anything else to
the JSON encoder.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any
from uuid import UUID

__all__ = ["json_ready"]


def json_ready(value: Any) -> Any:
    """Turn ids, datetimes, paths, collections and dataclasses into JSON-ready values.

    Mapping keys become strings, tuples and sets become lists, datetimes ISO
    8601 text, and dataclass instances dicts of their fields.

    Examples:
        >>> from datetime import timezone
        >>> json_ready({1: (UUID(int=1), datetime(2024, 5, 1, tzinfo=timezone.utc))})
        {'1': ['00000000-0000-0000-0000-000000000001', '2024-05-01T00:00:00+00:00']}

    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (UUID, PurePath)):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return json_ready(asdict(value))
    return value
