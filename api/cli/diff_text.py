"""How ``lineagelog diff`` reads in a terminal (rich): what changed first, then the detail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineagelog.api.cli.output import format_duration

if TYPE_CHECKING:
    from rich.console import Console

    from lineagelog.domain.comparison import CodeChange, OutputComparison, RunComparison
    from lineagelog.domain.root_causes import ArtifactComparison
    from lineagelog.domain.value_diff import ValueDifference

__all__ = ["print_artifact_comparison", "print_run_comparison"]

_MARKS = {
    "same": "[dim]=[/]",
    "changed": "[red]~[/]",
    "added": "[green]+[/]",
    "removed": "[red]-[/]",
}


def _esc(text: object) -> str:
    from rich.markup import escape

    return escape(str(text))


def _code(out: Console, code: CodeChange, indent: str) -> None:
    from rich.syntax import Syntax

    if code.note is not None:
        out.print(f"{indent}[yellow]{_esc(code.note)}[/]")
    diff = code.diff
    if diff:
        out.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))


def _io(item: OutputComparison) -> str:
    old = "-" if item.a is None else f"{item.a.label} ({item.a.content_hash[:8]})"
    new = "-" if item.b is None else f"{item.b.label} ({item.b.content_hash[:8]})"
    if item.same:
        return f"{_esc(item.name)}: same content ({_esc(new)})"
    return f"{_esc(item.name)}: [red]{_esc(old)} -> {_esc(new)}[/]"


def print_run_comparison(out: Console, comparison: RunComparison) -> None:
    """Print two runs side by side: run parameters, then each step with what differs."""
    a, b = comparison.a, comparison.b
    out.print(
        f"[bold]{_esc(a.pipeline)} / {_esc(a.name)}[/] ({a.id[:8]}, {a.status}, "
        f"{format_duration(a.duration_s)})"
    )
    out.print(
        f"[bold]{_esc(b.pipeline)} / {_esc(b.name)}[/] ({b.id[:8]}, {b.status}, "
        f"{format_duration(b.duration_s)})"
    )
    if a.pipeline != b.pipeline:
        out.print("[yellow]runs of different pipelines: steps are aligned by invocation id[/]")
    if comparison.same:
        out.print(
            "[green]no difference[/]: same parameters, every step with the same "
            "ingredients and the same outputs"
        )
        return
    for difference in comparison.parameters:
        out.print(f"run {_esc(difference.reason())}")
    for step in comparison.steps:
        old, new = step.a, step.b
        outcome = " -> ".join(
            f"{s.status}"
            + (f"/{s.cache_outcome}" if s.cache_outcome else "")
            + f" {format_duration(s.duration_s)}"
            for s in (old, new)
            if s is not None
        )
        out.print(f"{_MARKS[step.change]} [bold]{_esc(step.invocation_id)}[/]  {_esc(outcome)}")
        if step.change == "same":
            continue
        for side in (old, new):
            if side is not None and side.error:
                out.print(f"    [red]{_esc(side.error)}[/]")
        for difference in step.differences:
            if difference.kind != "input":
                out.print(f"    {_esc(difference.reason())}")
        if step.code is not None:
            _code(out, step.code, "    ")
        for item in step.inputs:
            if not item.same:
                out.print(f"    input {_io(item)}")
        for item in step.outputs:
            out.print(f"    output {_io(item)}")


def _value(out: Console, value: ValueDifference | None) -> None:
    if value is None:
        return
    out.print(f"[bold]how the values differ[/] (by {value.how}):")
    for change in value.changes:
        old = "(absent)" if change.old is None else change.old
        new = "(absent)" if change.new is None else change.new
        out.print(f"  {_esc(change.path)}: {_esc(old)} -> {_esc(new)}")
    if value.more:
        out.print(f"  ... and {value.more} more")
    if value.note:
        out.print(f"  [dim]{_esc(value.note)}[/]")


def print_artifact_comparison(out: Console, comparison: ArtifactComparison) -> None:
    """Print the root causes of two versions' difference, each with its path and consequences."""
    a, b = comparison.a, comparison.b
    deleted = [v.label for v in (a, b) if v.deleted]
    out.print(
        f"[bold]{_esc(a.label)}[/] vs [bold]{_esc(b.label)}[/]: "
        + ("[green]same content[/]" if comparison.same_content else "[red]content differs[/]")
        + (f" ({', '.join(deleted)} deleted: compared by what the log recorded)" if deleted else "")
    )
    _value(out, comparison.value)
    if not comparison.root_causes:
        if a.id == b.id:
            out.print("the same artifact version")
        else:
            out.print("no difference in their upstream histories")
        return
    out.print(f"[bold]root causes[/] ({len(comparison.root_causes)}):")
    for number, cause in enumerate(comparison.root_causes, 1):
        out.print(f"{number}. [red]{_esc(cause.description)}[/]")
        if cause.code is not None:
            _code(out, cause.code, "   ")
        out.print(f"   path: {_esc('  =>  '.join(comparison.path_labels(cause)))}")
        if cause.consequences:
            out.print(f"   led to: {_esc(', '.join(cause.consequences))}")
