"""Alert delivery as an outbox, against real HTTP servers on 127.0.0.1: retries after a failure,
a total deadline per POST, no redirects, sinks in parallel, one claim per delivery."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BIN
from test_monitor_cli import RULES, build

from calibrax.cli import cli
from calibrax.core import Alert, Severity
from calibrax.monitoring import DeliveryError, WebhookSink, deliver_pending, load_monitor_config, monitor_store
from calibrax.storage import SCHEMA_VERSION, Store
from calibrax.storage._schema import MIGRATIONS, _alert_deliveries

ALERT = Alert("a1", "slow", Severity.CRITICAL, "matmul: time 2 above 1.", "2026-01-01T00:00:00+00:00",
              {"benchmark": "matmul"}, 2.0, 1.0, "run-1", {})

Behaviour = Callable[[BaseHTTPRequestHandler, int], None]


class _Server:
    """A real HTTP server on 127.0.0.1 whose answers a test writes; it records every request."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.requests: list[tuple[str, str, str, dict]] = []  # method, path, Authorization, body
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> int:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else {}
                with server.lock:
                    server.requests.append((self.command, self.path, self.headers.get("Authorization", ""), body))
                    return len(server.requests)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                behaviour(self, self._record())

            do_GET = do_POST  # noqa: N815 (a followed redirect may arrive as a GET)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def posts(self) -> list[dict]:
        with self.lock:
            return [body for method, _, _, body in self.requests if method == "POST"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], _Server]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour) -> _Server:
        servers.append(_Server(behaviour))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def answer(status: int, headers: dict[str, str] | None = None) -> Behaviour:
    def behaviour(handler: BaseHTTPRequestHandler, n: int) -> None:
        handler.send_response(status)
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behaviour


def rules_with(tmp_path: Path, sinks: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES + f"sinks:\n{sinks}")
    return path


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_webhook_that_failed_once_gets_the_alerts_on_retry(tmp_path: Path, serve: Callable[[Behaviour], _Server]) -> None:
    def first_500(handler: BaseHTTPRequestHandler, n: int) -> None:
        answer(500 if n == 1 else 200)(handler, n)

    server = serve(first_500)
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    rules = rules_with(tmp_path, f"  - {{type: webhook, url: '{server.url()}', timeout: 5}}\n")
    first = invoke("monitor", "--rules", str(rules), "--db", str(db), "--json")
    data = json.loads(first.output)  # type: ignore[attr-defined]
    assert len(data["new"]) == 4 and len(data["failures"]) == 1 and "HTTP 500" in data["failures"][0]["error"]
    assert data["delivered"] == 0 and data["pending"] == 4 and len(server.posts()) == 1  # the others wait
    again = invoke("monitor", "--rules", str(rules), "--db", str(db), "--json")  # inside the backoff: nothing sent
    assert json.loads(again.output)["pending"] == 4 and len(server.posts()) == 1  # type: ignore[attr-defined]
    retried = invoke("monitor", "--rules", str(rules), "--db", str(db), "--retry", "--json")
    data = json.loads(retried.output)  # type: ignore[attr-defined]
    assert retried.exit_code == 0 and data["delivered"] == 4 and data["pending"] == 0  # type: ignore[attr-defined]
    assert sorted(b["rule"] for b in server.posts()[1:]) == ["matmul-drift"] * 3 + ["matmul-slower"]
    with Store.open(db) as store:
        states = store.delivery_states()
    assert {s.state for s in states} == {"delivered"} and max(s.attempts for s in states) == 2
    invoke("monitor", "--rules", str(rules), "--db", str(db), "--retry")
    assert len(server.posts()) == 5  # delivered once each, never again


def test_a_later_monitor_run_retries_once_the_backoff_has_passed(tmp_path: Path,
                                                                 serve: Callable[[Behaviour], _Server]) -> None:
    statuses = [503, 200]
    server = serve(lambda handler, n: answer(statuses[min(n, 2) - 1])(handler, n))
    sink = WebhookSink(server.url(), timeout=5)
    with Store.open(tmp_path / "calibrax.db") as store:
        store.add_alerts([ALERT], sinks=[sink.name])
        assert deliver_pending(store, [sink]).failures[0].error.endswith("answered HTTP 503 Service Unavailable.")
        (state,) = store.delivery_states()
        assert state.state == "pending" and state.attempts == 1 and state.next_at > time.time() + 20
        assert store.claim_deliveries({sink.name: 5.0}) == []  # not due yet
        claimed = store.claim_deliveries({sink.name: 5.0}, now=state.next_at + 1)
        assert [d.alert for d in claimed] == [ALERT] and claimed[0].attempts == 1
        assert store.finish_delivery(claimed[0])
    assert len(server.posts()) == 1


@pytest.mark.serial
def test_a_server_trickling_its_headers_is_cut_off_at_the_deadline(serve: Callable[[Behaviour], _Server]) -> None:
    def trickle(handler: BaseHTTPRequestHandler, n: int) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(15):  # one header line a second, each read well inside a per-read timeout
            handler.wfile.write(f"X-Slow-{i}: y\r\n".encode())
            handler.wfile.flush()
            time.sleep(1.0)

    server = serve(trickle)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"no complete answer within its deadline timeout=3 s"):
        WebhookSink(server.url(), timeout=3).send(ALERT)
    assert time.monotonic() - started < 3 + 2


def test_a_redirect_to_another_host_is_not_followed_and_not_delivered(tmp_path: Path,
                                                                      serve: Callable[[Behaviour], _Server]) -> None:
    other = serve(answer(200))
    first = serve(answer(302, {"Location": other.url("localhost")}))
    sink = WebhookSink(first.url(), timeout=5, headers={"Authorization": "Bearer s3cret"})
    with Store.open(tmp_path / "calibrax.db") as store:
        store.add_alerts([ALERT], sinks=[sink.name])
        report = deliver_pending(store, [sink])
        (state,) = store.delivery_states()
    assert report.delivered == 0 and state.state == "pending"
    assert "HTTP 302" in str(state.last_error) and "does not follow redirects" in str(state.last_error)
    assert other.requests == []  # nothing, the token least of all, reached the other host
    assert [auth for _, _, auth, _ in first.requests] == ["Bearer s3cret"]


def test_a_slow_sink_delays_no_other(tmp_path: Path, serve: Callable[[Behaviour], _Server]) -> None:
    fast_got_it = threading.Event()

    def slow(handler: BaseHTTPRequestHandler, n: int) -> None:
        fast_got_it.wait(6)  # answers once the fast sink was reached, so only sending in parallel delivers both
        answer(200 if fast_got_it.is_set() else 504)(handler, n)

    def fast(handler: BaseHTTPRequestHandler, n: int) -> None:
        fast_got_it.set()
        answer(200)(handler, n)

    slow_server, fast_server = serve(slow), serve(fast)
    rules = rules_with(tmp_path, f"  - {{type: webhook, url: '{slow_server.url()}', timeout: 4}}\n"
                                 f"  - {{type: webhook, url: '{fast_server.url()}', timeout: 4}}\n")
    config = load_monitor_config(rules)
    with Store.open(build(tmp_path / "calibrax.db", slow_runs=3)) as store:
        report = monitor_store(store, config)
    assert report.failures == () and report.delivered == 8 and report.pending == 0
    assert len(slow_server.posts()) == 4 and len(fast_server.posts()) == 4


def test_a_claim_is_held_by_one_process_until_its_lease_runs_out(tmp_path: Path) -> None:
    with Store.open(tmp_path / "calibrax.db") as a, Store.open(tmp_path / "calibrax.db") as b:
        a.add_alerts([ALERT], sinks=["log"])
        (claim,) = a.claim_deliveries({"log": 1.0}, now=1000.0)
        assert b.claim_deliveries({"log": 1.0}, now=1000.0) == []  # claimed: no second sender
        (stolen,) = b.claim_deliveries({"log": 1.0}, now=1000.0 + 1.0 + 31.0)  # the holder died mid-send
        assert not a.finish_delivery(claim)  # its claim was taken over: it records nothing
        assert b.finish_delivery(stolen)
        assert [s.state for s in a.delivery_states()] == ["delivered"]


_MONITOR = [str(BIN / "calibrax"), "monitor", "--json"]


@pytest.mark.slow
def test_four_concurrent_monitors_send_each_alert_once(tmp_path: Path, serve: Callable[[Behaviour], _Server]) -> None:
    def slowish(handler: BaseHTTPRequestHandler, n: int) -> None:
        time.sleep(0.2)  # keeps sends in flight while the other monitors claim
        answer(200)(handler, n)

    server = serve(slowish)
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    rules = rules_with(tmp_path, f"  - {{type: webhook, url: '{server.url()}', timeout: 5}}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([*_MONITOR, "--rules", str(rules), "--db", str(db)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode in (0, 1) for p in procs), outputs
    bodies = server.posts()
    assert sorted(b["id"] for b in bodies) == sorted({b["id"] for b in bodies}) and len(bodies) == 4
    assert sum(len(json.loads(out)["new"]) for out, _ in outputs) == 4  # each new alert reported by one monitor


@pytest.mark.parametrize(
    "sink, message",
    [
        ("{type: webhook, url: 'http://', timeout: 5}", "must start with http:// or https:// and name a host"),
        ("{type: webhook, url: 'https://hooks.example.org:99999/x'}", "and a valid port"),
        ("{type: webhook, url: 'hooks.example.org/x'}", "must start with http:// or https://"),
        ("{type: webhook, url: 'https://hooks.example.org/x', timeout: -5}", "a finite number > 0 (e.g. 10), got -5"),
        ("{type: webhook, url: 'https://hooks.example.org/x', timeout: .nan}", "a finite number > 0 (e.g. 10), got nan"),
        ("{type: webhook, url: 'https://hooks.example.org/x', timeout: soon}", "got 'soon'"),
        ("{type: webhook, url: 'https://hooks.example.org/x', timeout: 0}", "got 0"),
        ("{type: webhook, url: 'https://h.example.org/x', headers: {Authorization: 5}}", "headers must be strings"),
    ],
)
def test_bad_sink_settings_exit_2_when_the_rules_load(tmp_path: Path, sink: str, message: str) -> None:
    rules = rules_with(tmp_path, f"  - {sink}\n")
    res = CliRunner().invoke(cli, ["monitor", "--rules", str(rules), "--db", str(tmp_path / "calibrax.db")])
    assert res.exit_code == 2 and message in res.output and "sinks[0]" in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "calibrax.db").exists()  # refused before the store


def test_retry_and_dry_run_together_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["monitor", "--retry", "--dry-run", "--db", str(tmp_path / "calibrax.db")])
    assert res.exit_code == 2 and "give one of them" in res.output


def test_a_store_from_before_the_outbox_migrates_and_keeps_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        store.add_alerts([ALERT])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE alert_deliveries")
    before = MIGRATIONS.index(_alert_deliveries)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(before)])
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.load_alerts() == [ALERT] and store.delivery_states() == []  # sent before: nothing to resend
        later = Alert("a2", "slow", Severity.INFO, "m", "2026-01-02T00:00:00+00:00")
        assert store.add_alerts([ALERT, later], sinks=["log"]) == [later]
        assert [(s.alert_id, s.state) for s in store.delivery_states()] == [("a2", "pending")]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
