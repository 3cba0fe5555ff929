"""The fault proxy itself: seeded choices, each kind of fault as the client and the server see
it, writes only, the log, holding writes, and the command."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.proxy import KINDS, FaultConfig, FaultProxy
from tests.kubeapi.server import TestApiServer

pytestmark = pytest.mark.faults

PROJECT = Path(__file__).resolve().parents[2]
CM = "/api/v1/namespaces/default/configmaps/probe"
REQUESTS = [(method, f"/api/v1/namespaces/default/configmaps/cm-{n}", dry)
            for n in range(50) for method, dry in (("GET", False), ("PATCH", True),
                                                   ("PATCH", False))]


@pytest.fixture
def proxy(api_server: TestApiServer) -> Iterator[FaultProxy]:
    with FaultProxy(api_server.url, FaultConfig(seed=1, rate=0.0, stall_seconds=0.3)) as p:
        yield p


def send(to: FaultProxy | str, method: str = "PATCH", path: str = CM, value: str = "x",
         query: str = "?fieldManager=probe&force=true", timeout: float = 5
         ) -> tuple[int, dict[str, str], bytes]:
    """One request through the proxy (or the URL) as the kubernetes client sends it."""
    url = to if isinstance(to, str) else to.url
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"},
                       "data": {"value": value}}) if method == "PATCH" else None
    try:
        connection.request(method, path + query, body=body,
                           headers={"Authorization": "Bearer admin-token",
                                    "Content-Type": "application/apply-patch+yaml"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def live_value(api_server: TestApiServer) -> str | None:
    obj = api_server.cluster.objects.get(("", "configmaps", "default", "probe"))
    return None if obj is None else obj["data"]["value"]


def decisions(config: FaultConfig, requests: list[tuple[str, str, bool]]
              ) -> dict[tuple[str, str, bool], str | None]:
    proxy = FaultProxy("http://127.0.0.1:1", config)
    try:
        return {request: proxy.decide(*request) for request in requests}
    finally:
        proxy.httpd.server_close()


def test_the_choice_is_seeded_and_independent_of_the_order() -> None:
    config = FaultConfig(seed=42, rate=0.3)
    first = decisions(config, REQUESTS)
    assert decisions(config, list(reversed(REQUESTS))) == first
    assert decisions(FaultConfig(seed=43, rate=0.3), REQUESTS) != first
    share = sum(1 for kind in first.values() if kind) / len(first)
    assert 0.2 < share < 0.4
    assert {kind for kind in first.values() if kind} == set(KINDS)


def test_the_same_request_again_gets_a_choice_of_its_own() -> None:
    proxy = FaultProxy("http://127.0.0.1:1", FaultConfig(seed=5, rate=0.5))
    try:
        kinds = [proxy.decide("PATCH", CM, False) for _ in range(40)]
    finally:
        proxy.httpd.server_close()
    assert None in kinds and any(kinds)  # a retry is not doomed to the same fault


def test_writes_only_spares_reads_and_dry_runs() -> None:
    chosen = decisions(FaultConfig(seed=3, rate=1.0, writes_only=True), REQUESTS)
    assert all(kind is None for (method, _, dry), kind in chosen.items()
               if method == "GET" or dry)
    assert all(kind for (method, _, dry), kind in chosen.items() if method == "PATCH" and not dry)


def test_match_narrows_the_paths() -> None:
    chosen = decisions(FaultConfig(seed=3, rate=1.0, match=r"/cm-1\d$"), REQUESTS)
    assert {path for (_, path, _), kind in chosen.items() if kind} == {
        f"/api/v1/namespaces/default/configmaps/cm-{n}" for n in range(10, 20)}


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="fault kinds"):
        FaultConfig(kinds=("explode",))
    with pytest.raises(ValueError, match="rate"):
        FaultConfig(rate=1.5)


def test_no_faults_forwards_everything(proxy: FaultProxy, api_server: TestApiServer) -> None:
    status, _, body = send(proxy, value="through")
    assert status == 201 and json.loads(body)["data"] == {"value": "through"}
    assert send(proxy, "GET", query="")[0] == 200
    assert live_value(api_server) == "through"
    assert proxy.events == [] and proxy.forwarded == 2


@pytest.mark.parametrize("kind, reason", [("500", "InternalError"),
                                          ("503", "ServiceUnavailable"),
                                          ("429", "TooManyRequests")])
def test_status_faults_answer_without_forwarding(proxy: FaultProxy, api_server: TestApiServer,
                                                 kind: str, reason: str) -> None:
    proxy.configure(rate=1.0, kinds=(kind,))
    status, headers, body = send(proxy)
    assert status == int(kind)
    assert json.loads(body)["reason"] == reason
    assert (headers.get("Retry-After") == "1") is (kind == "429")
    assert api_server.requests == [] and live_value(api_server) is None
    assert [(e.method, e.path, e.kind) for e in proxy.events] == [("PATCH", CM, kind)]


def test_a_reset_before_never_reaches_the_server(proxy: FaultProxy,
                                                 api_server: TestApiServer) -> None:
    proxy.configure(rate=1.0, kinds=("reset-before",))
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        send(proxy)
    assert api_server.requests == [] and live_value(api_server) is None
    assert proxy.faults("reset-before", writes=True)


def test_a_reset_after_is_done_by_the_server_and_unanswered(
        proxy: FaultProxy, api_server: TestApiServer) -> None:
    proxy.configure(rate=1.0, kinds=("reset-after",))
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        send(proxy, value="done")
    assert live_value(api_server) == "done"
    assert [r.method for r in api_server.requests] == ["PATCH"]


def test_a_stall_delays_then_answers(proxy: FaultProxy, api_server: TestApiServer) -> None:
    proxy.configure(rate=1.0, kinds=("stall",))
    started = time.monotonic()
    status, _, _ = send(proxy, value="late")
    assert status == 201 and time.monotonic() - started >= 0.3
    assert live_value(api_server) == "late"


def test_a_stall_longer_than_the_client_waits_still_reaches_the_server(
        proxy: FaultProxy, api_server: TestApiServer) -> None:
    proxy.configure(rate=1.0, kinds=("stall",), stall_seconds=0.6)
    with pytest.raises(socket.timeout):
        send(proxy, value="after the timeout", timeout=0.2)
    assert proxy.wait_idle(5)
    assert live_value(api_server) == "after the timeout"


def test_held_writes_wait_for_the_release(proxy: FaultProxy, api_server: TestApiServer) -> None:
    proxy.hold(r"/configmaps/probe$")
    answers: list[int] = []
    writer = threading.Thread(target=lambda: answers.append(send(proxy, value="held")[0]))
    writer.start()
    deadline = time.monotonic() + 5
    while proxy.held == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proxy.held == 1 and live_value(api_server) is None
    assert send(proxy, "GET", query="")[0] == 404  # reads pass
    proxy.release()
    writer.join(5)
    assert answers == [201] and live_value(api_server) == "held"


def test_the_command(api_server: TestApiServer, tmp_path: Path) -> None:
    """`python -m tests.faults.proxy`: forwards, logs each fault on stderr and to --log, and
    stops on Ctrl-C with a count."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "faults.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.proxy", "--upstream", api_server.url, "--seed",
         "1", "--rate", "1", "--kinds", "503", "--writes-only", "--listen", str(port),
         "--log", str(log)], cwd=PROJECT, text=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        assert send(url, "GET", query="")[0] == 404
        assert send(url)[0] == 503
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert f"fault proxy on http://127.0.0.1:{port} -> {api_server.url}" in err
    assert f"fault 503: PATCH {CM}" in err
    assert "2 requests, 1 forwarded" in err
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["kind"]) for e in events] == [("PATCH", CM, "503")]
