"""Alert sinks (log, JSONL, a webhook on a real local HTTP server) and the alert manager."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from calibrax.core import Alert, ConfigError, Severity, alert_from_dict
from calibrax.monitoring import AlertManager, DeliveryError, JsonlSink, LogSink, WebhookSink, sink_from_config

ALERT = Alert("a1", "slow", Severity.CRITICAL, "matmul n=512: time 2 above 1.", "2026-01-01T00:00:00+00:00",
              {"benchmark": "matmul", "params": {"n": 512}}, 2.0, 1.0, "run-1", {"streak": 3})


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, str]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_the_webhook_posts_the_alert_as_json(server: tuple[str, type[_Hook]]) -> None:
    url, hook = server
    WebhookSink(f"{url}/alerts", headers={"Authorization": "Bearer t"}).send(ALERT)
    ((path, body, auth),) = hook.received
    assert path == "/alerts" and auth == "Bearer t"
    assert alert_from_dict(body) == ALERT


def test_a_webhook_answering_an_error_status_raises(server: tuple[str, type[_Hook]]) -> None:
    url, hook = server
    hook.status = 503
    with pytest.raises(DeliveryError, match="answered HTTP 503"):
        WebhookSink(url).send(ALERT)


def test_an_unreachable_webhook_raises(server: tuple[str, type[_Hook]]) -> None:
    url, _ = server
    port = int(url.rsplit(":", 1)[1])
    # A port nobody listens on: bind one, note it, close it.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    assert free != port
    with pytest.raises(DeliveryError, match="could not be reached"):
        WebhookSink(f"http://127.0.0.1:{free}/", timeout=2).send(ALERT)


def test_a_webhook_needs_an_http_url() -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https:// and name a host .*, got 'ftp://x'"):
        WebhookSink("ftp://x")


def test_the_jsonl_sink_appends_one_line_per_alert(tmp_path: Path) -> None:
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink(path)
    sink.send(ALERT)
    sink.send(ALERT)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and alert_from_dict(json.loads(lines[1])) == ALERT


def test_an_unwritable_jsonl_path_raises(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError, match="Cannot append the alert"):
        JsonlSink(tmp_path).send(ALERT)  # a directory


def test_the_log_sink_logs_at_the_alerts_severity(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="calibrax.alerts"):
        LogSink().send(ALERT)
    (record,) = caplog.records
    assert record.levelno == logging.CRITICAL and record.getMessage() == f"[critical] slow: {ALERT.message}"


class _Broken:
    name = "broken"

    def send(self, alert: Alert) -> None:
        raise RuntimeError("sink is down")


class _Collect:
    def __init__(self) -> None:
        self.name = "collect"
        self.got: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.got.append(alert)


def test_a_sink_that_raises_does_not_stop_the_others(server: tuple[str, type[_Hook]], tmp_path: Path) -> None:
    url, hook = server
    first, last = _Collect(), _Collect()
    manager = AlertManager([first, _Broken(), WebhookSink(url), JsonlSink(tmp_path / "a.jsonl"), last])
    failures = manager.emit(ALERT)
    assert [(f.sink, f.alert_id, f.error) for f in failures] == [("broken", "a1", "RuntimeError: sink is down")]
    assert first.got == [ALERT] and last.got == [ALERT] and len(hook.received) == 1
    assert (tmp_path / "a.jsonl").exists() and manager.failures == tuple(failures)


def test_history_is_bounded_and_low_severities_are_kept_but_not_sent() -> None:
    sink = _Collect()
    manager = AlertManager([sink], max_history=3, min_severity=Severity.ERROR)
    for i, severity in enumerate([Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL]):
        manager.emit(Alert(f"a{i}", "r", severity, "m", "t"))
    assert [a.id for a in manager.history] == ["a1", "a2", "a3"]
    assert [a.id for a in sink.got] == ["a2", "a3"]
    manager.add_sink(later := _Collect())
    manager.emit(ALERT)
    assert later.got == [ALERT]
    with pytest.raises(ConfigError, match="max_history must be at least 1"):
        AlertManager(max_history=0)


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"type": "email"}, "each sink needs type: log, jsonl or webhook"),
        ("log", "each sink needs type"),
        ({"type": "jsonl"}, "a jsonl sink needs path"),
        ({"type": "webhook", "url": "http://x", "retries": 3}, "a webhook sink takes headers, timeout, url, not retries"),
    ],
)
def test_bad_sink_configs_are_refused(spec: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        sink_from_config(spec)  # type: ignore[arg-type]


def test_sinks_from_config(tmp_path: Path) -> None:
    assert isinstance(sink_from_config({"type": "log"}), LogSink)
    assert sink_from_config({"type": "jsonl", "path": str(tmp_path / "a.jsonl")}).name == f"jsonl:{tmp_path / 'a.jsonl'}"
    hook = sink_from_config({"type": "webhook", "url": "http://127.0.0.1:1/", "timeout": 2, "headers": {"X": "1"}})
    assert isinstance(hook, WebhookSink) and hook.timeout == 2.0 and hook.headers["X"] == "1"
