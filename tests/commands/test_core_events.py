"""The core neither prints nor prompts: it returns results and reports through `Events`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from gitdeploy.commands import deploy, local
from gitdeploy.commands.session import ClusterOptions, Session, WaitUpdate
from gitdeploy.errors import RefusedError
from gitdeploy.results import Outcome
from gitdeploy.results.apply import ObjectResult, WaitItem
from gitdeploy.results.plan import Plan
from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import TestApiServer


class Recorded:
    """An `Events` that keeps what the core reported, and answers confirmations as told."""

    def __init__(self, *, agree: bool = True) -> None:
        self.agree = agree
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.logs: list[str] = []
        self.planned_plans: list[Plan] = []
        self.confirmations: list[Plan] = []
        self.results: list[ObjectResult] = []
        self.updates: list[list[WaitItem]] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    def log(self, line: str) -> None:
        self.logs.append(line)

    def planned(self, plan: Plan) -> None:
        self.planned_plans.append(plan)

    def confirm_apply(self, plan: Plan) -> None:
        self.confirmations.append(plan)
        if not self.agree:
            raise RefusedError("not applied: cancelled")

    def confirm_unlock(self, environment: str, holder: str, since: str) -> None:
        raise AssertionError("not asked in these tests")

    def applied(self, result: ObjectResult) -> None:
        self.results.append(result)

    @contextmanager
    def waiting(self, environment: str, timeout: float) -> Iterator[WaitUpdate]:
        def update(items: list[WaitItem], elapsed: float) -> None:
            self.updates.append(items)

        yield update


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.namespace("shop"), objects.configmap("settings", {"color": "blue"}),
                        objects.deployment("web")], namespace="shop")


def test_apply_reports_through_events_and_prints_nothing(
        dev: ConfigRepo, api_server: TestApiServer, capfd: pytest.CaptureFixture[str]) -> None:
    events = Recorded()
    with Session.open(events, dev.root) as session:
        report = deploy.apply(session, "dev", ClusterOptions(), deploy.DeployOptions())
    assert report.succeeded
    assert [p.environment for p in events.planned_plans] == ["dev"]
    assert [p.environment for p in events.confirmations] == ["dev"]  # no --yes: asked
    assert sorted(r.change.title() for r in events.results) == [
        "ConfigMap shop/settings", "Deployment shop/web", "Namespace shop"]
    assert {r.outcome for r in events.results} == {Outcome.APPLIED}
    waited = {item.title: item.state.value for item in events.updates[-1]}
    assert waited["Deployment shop/web"] == "ready"
    assert any(line.startswith("PATCH /api/v1/namespaces/shop") for line in events.logs)
    assert capfd.readouterr() == ("", "")  # the core wrote nothing to the terminal


def test_a_refused_confirmation_stops_before_any_write(
        dev: ConfigRepo, api_server: TestApiServer) -> None:
    events = Recorded(agree=False)
    with Session.open(events, dev.root) as session, pytest.raises(RefusedError):
        deploy.apply(session, "dev", ClusterOptions(), deploy.DeployOptions())
    assert len(events.confirmations) == 1
    assert api_server.writes() == []
    assert events.results == []


def test_yes_skips_the_confirmation(dev: ConfigRepo, api_server: TestApiServer) -> None:
    events = Recorded(agree=False)
    with Session.open(events, dev.root) as session:
        report = deploy.apply(session, "dev", ClusterOptions(),
                              deploy.DeployOptions(yes=True, wait=False))
    assert report.succeeded and events.confirmations == []
    assert report.readiness is None and events.updates == []


def test_render_returns_the_objects_without_printing(
        dev: ConfigRepo, capfd: pytest.CaptureFixture[str]) -> None:
    events = Recorded()
    with Session.open(events, dev.root) as session:
        result = local.render(session, "dev")
    assert result.environment == "dev"
    assert [m.key.name for m in result.manifests] == ["shop", "settings", "web"]
    assert capfd.readouterr() == ("", "")
