"""Name templates: ``{date}``, ``{time}`` and user substitutions, as ZenML formats them.

A run name such as ``"training_{date}_{time}"`` or ``"experiment_{experiment}"``
is formatted when the run starts: ``{date}`` becomes ``2024_06_30`` and
``{time}`` ``14_05_09_123456`` (UTC, the run's start), and every other
placeholder must be one of the ``substitutions`` given to the pipeline.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime

from lineagelog.domain.errors import PipelineDefinitionError
from lineagelog.domain.names import control_characters

__all__ = [
    "check_printable_name",
    "default_run_name",
    "format_name_template",
    "probe_template",
    "template_placeholders",
]


def template_placeholders(template: str) -> set[str]:
    """The placeholder names of ``template`` (``{{`` and ``}}`` are literal braces).

    Raises:
        PipelineDefinitionError: the template is not a valid format string.

    Examples:
        >>> sorted(template_placeholders("run_{date}_{experiment}_{{literal}}"))
        ['date', 'experiment']
    """
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template)]
    except ValueError as e:
        raise PipelineDefinitionError(
            f"name template {template!r} is not valid ({e}); write placeholders as "
            "{date}, {time} or {name_of_a_substitution}, and a literal brace as {{ or }}"
        ) from None
    names = {field for field in fields if field is not None}
    if "" in names or any(name.isdigit() for name in names):
        raise PipelineDefinitionError(
            f"name template {template!r} has a positional placeholder ({{}} or {{0}}); "
            "name each one: {date}, {time} or a key of substitutions"
        )
    return names


def format_name_template(
    template: str,
    substitutions: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
    what: str = "name",
) -> str:
    """Fill ``template`` with ``{date}``, ``{time}`` and ``substitutions``.

    ``date`` and ``time`` come from ``now`` (default: the current UTC time)
    unless ``substitutions`` sets them.

    Raises:
        PipelineDefinitionError: a placeholder is neither ``date``, ``time`` nor
            a key of ``substitutions``; the message names it and what to add.

    Examples:
        >>> when = datetime(2024, 6, 30, 14, 5, 9, 123456, tzinfo=UTC)
        >>> format_name_template("run_{date}_{time}", now=when)
        'run_2024_06_30_14_05_09_123456'
        >>> format_name_template("exp_{experiment}", {"experiment": "lr"}, now=when)
        'exp_lr'
    """
    moment = now or datetime.now(UTC)
    values = {"date": f"{moment:%Y_%m_%d}", "time": f"{moment:%H_%M_%S_%f}"}
    values.update({str(key): str(value) for key, value in (substitutions or {}).items()})
    unknown = template_placeholders(template) - set(values)
    if unknown:
        known = sorted(set(values) - {"date", "time"})
        raise PipelineDefinitionError(
            f"{what} {template!r} uses the placeholder(s) {sorted(unknown)}, which nothing "
            f"fills: only {{date}}, {{time}} and the substitutions {known} are known; pass "
            f"substitutions={{{sorted(unknown)[0]!r}: ...}} to the pipeline "
            "(@pipeline, configure or with_options), or write a literal brace as {{ or }}"
        )
    return template.format_map(values)


def default_run_name(pipeline: str, *, now: datetime | None = None) -> str:
    """ZenML's default run name, ``{pipeline}-{date}-{time}``.

    Examples:
        >>> when = datetime(2024, 6, 30, 14, 5, 9, 123456, tzinfo=UTC)
        >>> default_run_name("training {v2}", now=when)
        'training {v2}-2024_06_30-14_05_09_123456'
    """
    return f"{pipeline}-" + format_name_template("{date}-{time}", now=now)


def probe_template(template: str) -> str:
    """``template`` with each placeholder filled by ``x``, to check what it can become.

    Examples:
        >>> probe_template("model_{date}_{experiment}")
        'model_x_x'
    """
    if "{" not in template and "}" not in template:
        return template
    return template.format_map({name: "x" for name in template_placeholders(template)})


def check_printable_name(what: str, name: str) -> None:
    """Refuse a name holding control characters: tables and trees would run them in a terminal.

    Raises:
        PipelineDefinitionError: naming ``what``, the name and its control characters.
    """
    found = control_characters(name)
    if found:
        raise PipelineDefinitionError(
            f"{what} {name!r} contains the control character(s) {', '.join(found)} (a terminal "
            "escape sequence would garble every table that shows it); use printable text"
        )
