"""Text and JSON of `compare`, `promote` and `pin` (docs/promotion.md, docs/pinning.md). Texts
from the repository are printed as they are (`Text`, `markup=False`), never parsed as markup;
diffs are already masked."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gitdeploy import __version__
from gitdeploy.output import jsondoc, terminal
from gitdeploy.release_results import (
    DIFFERS,
    ONLY_IN_SOURCE,
    ONLY_IN_TARGET,
    SAME,
    EnvironmentComparison,
    PinReport,
    Promotion,
)
from gitdeploy.results import API_VERSION

STATE_STYLE = {ONLY_IN_SOURCE: "green", ONLY_IN_TARGET: "red", DIFFERS: "yellow", SAME: "dim"}


def _envelope(kind: str, **fields: Any) -> dict[str, Any]:
    """The envelope every JSON document has (docs/json-output.md)."""
    return {"apiVersion": API_VERSION, "kind": kind, "gitdeployVersion": __version__, **fields}


def _diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines():
        style = ("bold" if line.startswith(("+++", "---")) else "green" if line.startswith("+")
                 else "red" if line.startswith("-") else "cyan" if line.startswith("@@")
                 else "")
        text.append(line + "\n", style=style)
    return text


def _table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def comparison(console: Console, result: EnvironmentComparison) -> None:
    src, dst = result.source, result.target
    console.print(Text(f"{src} -> {dst}: what {dst} lacks of {src} (offline, rendered objects)",
                       style="bold"))
    console.print(Text("ignored as meant to differ: " + "; ".join(result.ignored), style="dim"))
    console.print()
    for difference in result.differences:
        label = {ONLY_IN_SOURCE: f"only in {src}", ONLY_IN_TARGET: f"only in {dst}",
                 DIFFERS: "differs"}[difference.state]
        where = difference.source or difference.target
        console.print(Text.assemble((f"{label} ", f"bold {STATE_STYLE[difference.state]}"),
                                    (difference.title, "bold"), (f"  ({where})", "dim")))
        console.print(_diff_text(difference.diff), end="")
        console.print()
    if result.images:
        table = _table("OBJECT", "CONTAINER", f"IN {src.upper()}", f"IN {dst.upper()}")
        for image in result.images:
            table.add_row(*(Text(v) for v in (image.object, image.container, image.source,
                                              image.target or "-")))
        console.print(Text("Images", style="bold"))
        console.print(table)
    if result.charts:
        table = _table("RELEASE", "CHART", f"IN {src.upper()}", f"IN {dst.upper()}")
        for chart in result.charts:
            table.add_row(*(Text(v) for v in (chart.release, chart.chart, chart.source or "-",
                                              chart.target or "-")))
        console.print(Text("Chart versions", style="bold"))
        console.print(table)
    if result.config_keys:
        table = _table("OBJECT", "KEY", "STATE")
        for key in result.config_keys:
            state = {"missing": f"missing in {dst}", "differs": "differs",
                     "extra": f"only in {dst}"}[key.state]
            table.add_row(Text(key.object), Text(key.key), Text(state))
        console.print(Text("Config keys", style="bold"))
        console.print(table)
    counts = {state: sum(1 for o in result.objects if o.state == state)
              for state in (ONLY_IN_SOURCE, ONLY_IN_TARGET, DIFFERS, SAME)}
    console.print(Text(
        f"{counts[ONLY_IN_SOURCE]} only in {src}, {counts[ONLY_IN_TARGET]} only in {dst}, "
        f"{counts[DIFFERS]} different, {counts[SAME]} the same; {len(result.images)} image(s), "
        f"{len(result.charts)} chart version(s), "
        f"{sum(1 for k in result.config_keys if k.state != 'extra')} config key(s) "
        f"{dst} lacks"))


def comparison_document(result: EnvironmentComparison) -> dict[str, Any]:
    return _envelope(
        "EnvironmentComparison", source=result.source, target=result.target,
        targetLacks=result.target_lacks, ignored=list(result.ignored),
        objects=[{"title": o.title, "state": o.state, "source": o.source, "target": o.target,
                  "diff": o.diff} for o in result.objects],
        images=[{"object": i.object, "container": i.container, "repository": i.repository,
                 "source": i.source, "target": i.target or None} for i in result.images],
        charts=[{"release": c.release, "chart": c.chart, "source": c.source or None,
                 "target": c.target or None} for c in result.charts],
        configKeys=[{"object": k.object, "key": k.key, "state": k.state}
                    for k in result.config_keys])


def promotion(console: Console, result: Promotion) -> None:
    if result.plan is not None and result.plan.pending:
        terminal.plan(console, result.plan)
        console.print()
    for edit in result.edits:
        action = "create" if edit.before is None else "edit"
        console.print(Text.assemble((f"{action} ", "bold green"), (edit.path, "bold")))
        for change in edit.changes:
            console.print(Text(f"  {change}"))
    for reason in result.skipped:
        console.print(Text.assemble(("not promoted: ", "bold yellow"), reason))
    if not result.edits:
        console.print(Text(f"{result.target} lacks nothing of what was chosen from "
                           f"{result.source}: no file changed"))
    else:
        console.print(Text(f"{len(result.edits)} file(s) of {result.target} written to the "
                           f"{result.written}", style="bold"))


def promotion_document(result: Promotion) -> dict[str, Any]:
    return _envelope(
        "Promotion", source=result.source, target=result.target,
        written=result.written or None,
        files=[{"path": e.path, "created": e.before is None, "changes": list(e.changes)}
               for e in result.edits],
        skipped=list(result.skipped),
        plan=jsondoc.plan(result.plan) if result.plan is not None else None)


def pins(console: Console, report: PinReport) -> None:
    table = _table("IMAGE", "DIGEST", "")
    for image in report.images:
        table.add_row(Text(image.image), Text(image.digest),
                      Text("changed" if image.changed else "", style="yellow"))
    console.print(table)
    for written in report.digest_only:
        console.print(Text(f"{written}: pinned by digest in the manifests already", style="dim"))
    console.print(Text(f"{len(report.images)} image(s) of {report.environment} pinned in "
                       f"{report.lock_file}"))


def pins_document(report: PinReport) -> dict[str, Any]:
    return _envelope(
        "ImagePins", environment=report.environment, lockFile=report.lock_file,
        images=[{"image": i.image, "digest": i.digest, "changed": i.changed}
                for i in report.images], digestOnly=list(report.digest_only))
