"""Texts from outside gitdeploy (the API server's messages, names and conditions read from the
cluster, names from the repository) are printed as they are: `[bold]` or `[/x]` in them is never
taken for rich markup, which would restyle the text or end the command with a MarkupError."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from rich.console import Console

from gitdeploy.cli.events import TerminalEvents
from gitdeploy.output import terminal
from gitdeploy.output.console import UI
from gitdeploy.output.progress import WaitDisplay, readiness_table
from gitdeploy.results import Outcome, State
from gitdeploy.results.apply import ObjectResult, Readiness, WaitItem, WaitReport
from gitdeploy.results.environment import EnvironmentInfo
from gitdeploy.results.state import EnvironmentStatus, History, LeaseState, Orphan, OrphanReport
from tests import builders
from tests import manifests as objects
from tests.conftest import MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer

MARKUP = "refused [/x] by [bold]policy[/bold] [red]"


def console() -> Console:
    return Console(file=io.StringIO(), width=300, record=True, color_system=None)


def text(out: Console) -> str:
    return out.export_text(clear=False)


# ---- through the command line ---------------------------------------------------------------

def test_a_server_message_with_markup_in_the_apply_report(environment: MakeEnvironment, cli,
                                                          api_server: TestApiServer) -> None:
    environment([objects.configmap("app", {"k": "v"})])
    api_server.inject(Fault(method="PATCH", path="/configmaps/app", status=422,
                            message=MARKUP, dry_run=False))
    result = cli("apply", "dev", "--yes")
    assert result.exit_code == 1, result.output  # not 3: no MarkupError
    assert MARKUP in result.stdout  # the report's table
    assert MARKUP in result.stderr  # the error's details
    result = cli("apply", "dev", "--yes", "-o", "json")
    assert result.exit_code == 1, result.output
    assert MARKUP in json.loads(result.stdout)["results"][0]["error"]


def test_a_server_message_with_markup_in_the_dry_run(environment: MakeEnvironment, cli,
                                                     api_server: TestApiServer) -> None:
    environment([objects.configmap("app", {"k": "v"})])
    api_server.inject(Fault(method="PATCH", path="/configmaps/app", status=422,
                            message=MARKUP, dry_run=True))
    result = cli("diff", "dev")
    assert result.exit_code == 1, result.output
    assert MARKUP in result.stderr


# ---- each renderer ---------------------------------------------------------------------------

def test_apply_report_and_plan() -> None:
    change = builders.change("ConfigMap", "app", "shop")
    out = console()
    terminal.apply_report(out, builders.report([(change, Outcome.FAILED, MARKUP)],
                                               environment="env[/x]"))
    assert MARKUP in text(out)
    assert "Apply to env[/x] stopped" in text(out)
    out = console()
    terminal.plan(out, builders.plan([change], environment="env[/x]"))
    assert "1 change(s) to env[/x]." in text(out)
    out = console()
    terminal.plan(out, builders.plan([], environment="[bold]env"))
    assert "No changes: [bold]env matches git." in text(out)


def test_environments_table() -> None:
    out = console()
    terminal.environments(out, [EnvironmentInfo(
        name="dev[/x]", path="environments/dev[/x]", context="[bold]ctx", namespace="ns",
        server="https://[red]", uid=None, protected=True, prune=False, suspend=False,
        suspend_reason="", state_namespace="gitdeploy")])
    shown = text(out)
    assert "dev[/x]" in shown and "[bold]ctx" in shown and "https://[red]" in shown


def test_header_of_a_plan() -> None:
    out = console()
    target = builders.TARGET.__class__(context="[bold]ctx", server="https://[/x]",
                                       cluster_uid="[red]")
    the_plan = builders.plan([])
    the_plan.target = target
    terminal.header(out, the_plan)
    assert all(value in text(out) for value in ("[bold]ctx", "https://[/x]", "[red]"))


def test_history_and_status_read_from_the_cluster() -> None:
    record = builders.record(3)
    record = record.__class__(**{**record.__dict__, "ref": "[/x]", "subject": MARKUP,
                                 "kind": "[bold]deploy"})
    out = console()
    terminal.history(out, History(environment="dev", target=builders.TARGET, records=[record]))
    shown = text(out)
    assert "[/x]" in shown and "[bold]deploy" in shown and "policy[/bold]" in shown
    out = console()
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    terminal.status(out, EnvironmentStatus(
        environment="dev[/x]", target=builders.TARGET, live=record,
        compared_to=builders.source(), distance=(0, 0), in_history=True, drift=None,
        drift_note=MARKUP, lock=LeaseState(holder="[bold]alice[/x]", acquired=now,
                                           renewed=now, duration=60, transitions=1)))
    shown = text(out)
    for value in ("dev[/x]", "[/x]", MARKUP, "[bold]alice[/x]"):
        assert value in shown, value


def test_orphans_table() -> None:
    out = console()
    terminal.orphans(out, OrphanReport(
        environment="dev[/x]", target=builders.TARGET, namespaces=["[bold]"],
        orphans=[Orphan(api_version="v1", kind="ConfigMap", namespace="shop", name="stray",
                        created="now", managers=("[/x]manager",))],
        unchecked=[MARKUP]))
    shown = text(out)
    assert "[/x]manager" in shown and "dev[/x]'s namespaces ([bold])" in shown
    assert MARKUP in shown
    out = console()
    terminal.orphans(out, OrphanReport(environment="dev[/x]", target=builders.TARGET,
                                       namespaces=["[bold]"]))
    assert "No orphans in dev[/x]'s namespaces ([bold])." in text(out)


def wait_item(message: str) -> WaitItem:
    return WaitItem(title="Deployment shop/web", kind="Deployment", group="apps",
                    namespace="shop", name="web", path="/x",
                    readiness=Readiness(State.FAILED, message, conditions=(MARKUP,)),
                    events=(MARKUP,))


@pytest.mark.parametrize("terminal_like", [True, False])
def test_readiness_while_waiting_and_after(terminal_like: bool) -> None:
    out = Console(file=io.StringIO(), width=300, record=True, color_system=None,
                  force_terminal=terminal_like)
    display = WaitDisplay(out, "dev[/x]", 60)
    with display.shown():
        display.update([wait_item(MARKUP)], 1.0)
    if not terminal_like:
        assert MARKUP in text(out)
    table_out = console()
    table_out.print(readiness_table([wait_item(MARKUP)]))
    assert MARKUP in text(table_out)
    out = console()
    terminal.readiness(out, "dev[/x]", WaitReport(items=[wait_item(MARKUP)], seconds=3,
                                                  timeout=60, timed_out=True))
    shown = text(out)
    assert "object(s) of dev[/x] not ready" in shown and MARKUP in shown


def test_messages_on_stderr() -> None:
    err = console()
    ui = UI(out=console(), err=err, stdin=io.StringIO(), interactive=False)
    ui.note(f"Released the lock of dev held by {MARKUP}.")
    ui.error(MARKUP, [MARKUP])
    ui.verbose = True
    ui.log(f"GET /x {MARKUP}")
    events = TerminalEvents(ui)
    events.note(MARKUP)
    events.warning(MARKUP)
    events.applied(ObjectResult(builders.change("ConfigMap", "app"), Outcome.FAILED, MARKUP))
    shown = text(err)
    assert f"Released the lock of dev held by {MARKUP}." in shown
    assert f"error: {MARKUP}\n  {MARKUP}" in shown
    assert f"» GET /x {MARKUP}" in shown
    assert f"\n{MARKUP}\nwarning: {MARKUP}\nfailed ConfigMap shop/app" in shown
