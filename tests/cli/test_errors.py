"""Errors users meet: each a clear message, exit 1, and nothing written."""

from __future__ import annotations

import socket

import pytest

from tests import manifests as objects
from tests.conftest import ConfigRepo, MakeEnvironment
from tests.kubeapi.server import Fault, TestApiServer


@pytest.fixture
def dev(environment: MakeEnvironment) -> ConfigRepo:
    return environment([objects.configmap("settings", {"a": "1"}), objects.deployment("web")])


def refused(cli, api_server: TestApiServer, *args: str) -> str:
    result = cli("apply", "dev", "--yes", *args)
    assert result.exit_code == 1, result.output
    assert api_server.writes() == []
    assert "Traceback" not in result.output, result.output
    return str(result.stderr)


def test_unreachable_server(dev: ConfigRepo, cli, api_server: TestApiServer, tmp_path,
                            monkeypatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = api_server.kubeconfig(tmp_path / "closed", context="x",
                                   extra_contexts={"kind-dev": f"http://127.0.0.1:{closed_port}"})
    monkeypatch.setenv("KUBECONFIG", str(config))
    dev.commit()
    err = refused(cli, api_server, "--retries", "1")
    assert f"cannot reach the API server at http://127.0.0.1:{closed_port}" in err
    assert "connection refused" in err
    assert "still failing after 2 attempts" in err


def test_request_timeout(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    api_server.inject(Fault(method="GET", path="/kube-system$", delay=1.5))
    err = refused(cli, api_server, "--request-timeout", "0.3", "--retries", "1")
    assert "timed out" in err
    assert "still failing after 2 attempts" in err


def test_unauthorized(dev: ConfigRepo, cli, api_server: TestApiServer, tmp_path,
                      monkeypatch) -> None:
    config = api_server.kubeconfig(tmp_path / "badtoken", context="kind-dev", token="expired")
    monkeypatch.setenv("KUBECONFIG", str(config))
    dev.commit()
    err = refused(cli, api_server)
    assert "401 Unauthorized" in err
    assert "credentials of this kube context were rejected" in err


def test_forbidden_names_verb_and_resource(dev: ConfigRepo, cli,
                                           api_server: TestApiServer) -> None:
    api_server.forbid("patch", "deployments")
    dev.commit()
    err = refused(cli, api_server)
    assert 'cannot patch resource "deployments" in API group "apps"' in err
    assert "403 Forbidden" in err


def test_unknown_kind_names_the_file(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.write("environments/dev/gadget.yaml",
              objects.custom("example.com", "Gadget", "g", {}))
    dev.commit()
    err = refused(cli, api_server)
    assert "the server has no kind Gadget in example.com/v1" in err
    assert "environments/dev/gadget.yaml:1" in err


def test_removed_api_version_is_an_unknown_kind(dev: ConfigRepo, cli,
                                                api_server: TestApiServer) -> None:
    old = objects.deployment("legacy")
    old["apiVersion"] = "extensions/v1beta1"
    dev.write("environments/dev/legacy.yaml", old)
    dev.commit()
    err = refused(cli, api_server)
    assert "no kind Deployment in extensions/v1beta1" in err


def test_invalid_object_shows_the_servers_message_and_file(dev: ConfigRepo, cli,
                                                           api_server: TestApiServer) -> None:
    broken = objects.deployment("broken")
    broken["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    dev.write("environments/dev/broken.yaml", broken)
    dev.commit()
    err = refused(cli, api_server)
    assert "environments/dev/broken.yaml:1" in err
    assert 'Deployment.apps "broken" is invalid' in err
    assert "`selector` does not match template `labels`" in err


def test_missing_namespace_not_in_plan(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    dev.write("environments/dev/elsewhere.yaml",
              objects.configmap("x", {}, namespace="does-not-exist"))
    dev.commit()
    err = refused(cli, api_server)
    assert "namespace(s) does-not-exist do not exist: nothing was written" in err
    assert "set createNamespace: true in environments/dev/gitdeploy.yaml" in err


def test_conflict(dev: ConfigRepo, cli, api_server: TestApiServer) -> None:
    api_server.inject(Fault(method="PATCH", path="/deployments/web", status=409, dry_run=True,
                            message='Operation cannot be fulfilled on deployments.apps "web": '
                                    "the object has been modified"))
    dev.commit()
    err = refused(cli, api_server)
    assert "409 Conflict" in err
    assert "the object has been modified" in err


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(dev: ConfigRepo, cli, api_server: TestApiServer, status: int) -> None:
    api_server.inject(Fault(method="PATCH", path="/configmaps/", status=status, dry_run=True))
    dev.commit()
    err = refused(cli, api_server, "--retries", "1")
    assert f"{status} " in err
    assert "the API server failed" in err
    assert "still failing after 2 attempts" in err


def test_unexpected_errors_exit_3_with_a_traceback_file(dev: ConfigRepo, cli,
                                                        api_server: TestApiServer,
                                                        monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    api_server.inject(Fault(method="GET", path="/kube-system$", status=200))
    # A 200 with a Status body and no metadata: not what any API server sends.
    first, second = cli("diff", "dev"), cli("diff", "dev")  # within the same second, often
    for result in (first, second):
        assert result.exit_code == 3
        assert "internal error" in result.stderr
    logs = sorted(tmp_path.glob("gitdeploy-crash-*.log"))
    assert len(logs) == 2  # one file per crash: the second does not overwrite the first
    for log in logs:
        assert str(log) in first.stderr + second.stderr
        assert "Traceback" in log.read_text() and log.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("args", [("diff",), ("diff", "dev", "--no-such-option"),
                                  ("no-such-command",), ("diff", "dev", "-o", "xml")])
def test_a_wrong_command_line_exits_1_never_2(dev: ConfigRepo, cli, args: tuple[str, ...]
                                              ) -> None:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "Usage:" in result.output


# What a real kube-apiserver v1.36 answers to a server-side apply of an object it cannot accept.
INVALID_OBJECT_ANSWERS = {
    "unknown-field": (500, "failed to create typed patch object (shop/settings; /v1, "
                           "Kind=ConfigMap): .sops: field not declared in schema"),
    "wrong-type": (500, "failed to create typed patch object (shop/settings; /v1, "
                        "Kind=ConfigMap): errors:\n  .data.on: expected string, got "
                        "&value.valueUnstructured{Value:true}"),
    "bad-base64": (500, "failed to convert new object (shop/settings; /v1, Kind=ConfigMap) to "
                        "proper version: illegal base64 data at input byte 3"),
    "invalid": (422, 'ConfigMap "settings" is invalid: data: Forbidden: field is immutable '
                     "when `immutable` is set"),
}


@pytest.mark.parametrize("case", sorted(INVALID_OBJECT_ANSWERS))
def test_an_object_the_server_refuses_is_an_input_error_never_a_retry(
        dev: ConfigRepo, cli, api_server: TestApiServer, case: str) -> None:
    status, message = INVALID_OBJECT_ANSWERS[case]
    api_server.inject(Fault(method="PATCH", path="/configmaps/", status=status, dry_run=True,
                            message=message))
    dev.commit()
    err = refused(cli, api_server)
    assert "the API server rejected 1 object(s) (dry run)" in err
    assert "ConfigMap default/settings (environments/dev/app.yaml:1): PATCH" in err
    assert message.splitlines()[0] in err
    assert "fix these objects in their files" in err
    assert "retry" not in err
