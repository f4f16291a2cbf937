"""`calibrax monitor` over a store built through the library: output, exit code, stored effect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_cli
from factories import run_info, time_case

from calibrax.cli import cli
from calibrax.core import RunStatus
from calibrax.storage import Store

RULES = """
rules:
  - name: matmul-slower
    benchmark: matmul
    condition: increase
    threshold: 0.2
    consecutive: 3
    severity: critical
  - name: matmul-drift
    benchmark: matmul
    condition: increase
    threshold: 0.2
    severity: warning
"""


def build(path: Path, slow_runs: int, slow: float = 2e-3) -> Path:
    """Eight matmul runs at 1 ms, then ``slow_runs`` runs at ``slow`` seconds."""
    with Store.open(path) as store:
        for i in range(8 + slow_runs):
            run_id = f"run-{i:02d}"
            store.begin_run(run_info(run_id, started_at=f"2026-11-{i + 1:02d}T00:00:00+00:00"))
            store.add_case(run_id, time_case("matmul", {"n": 512}, 1e-3 if i < 8 else slow, seed=i))
            store.finish_run(run_id, RunStatus.OK, f"2026-11-{i + 1:02d}T00:01:00+00:00")
    return path


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_degrading_history_prints_the_alerts_and_exits_1(tmp_path: Path, rules: Path) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    res = invoke("monitor", "--rules", str(rules), "--db", str(db))
    out = res.output  # type: ignore[attr-defined]
    assert res.exit_code == 1, out  # type: ignore[attr-defined]
    assert "CRITICAL  matmul-slower" in out and "WARNING   matmul-drift" in out
    assert "matmul n=512: time" in out and "in run run-10" in out
    assert "4 new alert(s), 1 critical; 0 raised before." in out
    with Store.open(db) as store:
        stored = store.load_alerts()
    assert [a.rule for a in stored if a.severity.value == "critical"] == ["matmul-slower"] and len(stored) == 4
    again = invoke("monitor", "--rules", str(rules), "--db", str(db))
    assert again.exit_code == 0 and "0 new alert(s), 0 critical; 4 raised before." in again.output  # type: ignore[attr-defined]
    listed = invoke("monitor", "--rules", str(rules), "--db", str(db), "--all", "--json")
    data = json.loads(listed.output)  # type: ignore[attr-defined]
    assert len(data["alerts"]) == 4 and data["new"] == [] and data["critical"] == 0


def test_a_history_not_yet_critical_exits_0(tmp_path: Path, rules: Path) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=2)
    res = invoke("monitor", "--rules", str(rules), "--db", str(db), "--json")
    data = json.loads(res.output)  # type: ignore[attr-defined]
    assert res.exit_code == 0 and data["critical"] == 0  # type: ignore[attr-defined]
    assert {a["rule"] for a in data["alerts"]} == {"matmul-drift"}


def test_dry_run_stores_nothing(tmp_path: Path, rules: Path) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    res = invoke("monitor", "--rules", str(rules), "--db", str(db), "--dry-run")
    assert res.exit_code == 1  # type: ignore[attr-defined]
    with Store.open(db) as store:
        assert store.load_alerts() == []


class _Hook(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"bodies": []})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", handler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_new_alerts_go_to_the_webhook_and_the_jsonl_file(tmp_path: Path, rules: Path,
                                                           hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    jsonl = tmp_path / "alerts.jsonl"
    res = invoke("monitor", "--rules", str(rules), "--db", str(db), "--webhook", url, "--jsonl", str(jsonl))
    assert res.exit_code == 1  # type: ignore[attr-defined]
    assert sorted(b["rule"] for b in handler.bodies) == ["matmul-drift"] * 3 + ["matmul-slower"]
    assert len(jsonl.read_text().splitlines()) == 4


def test_the_shipped_default_rules_and_a_project_rules_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=3, slow=3e-3)
    monkeypatch.chdir(tmp_path)
    res = invoke("monitor", "--db", str(db), "--json")  # conf/monitor/default.yaml: doubled 3 runs in a row
    data = json.loads(res.output)  # type: ignore[attr-defined]
    assert res.exit_code == 1 and "time-doubled" in {a["rule"] for a in data["alerts"]}  # type: ignore[attr-defined]
    assert [h["state"] for h in data["health"]] == ["healthy"]
    (tmp_path / "conf" / "monitor").mkdir(parents=True)
    (tmp_path / "conf" / "monitor" / "quiet.yaml").write_text("rules: []\n")
    res = invoke("monitor", "--rules", "quiet", "--db", str(db))
    assert res.exit_code == 0 and "0 new alert(s)" in res.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rules", "nightly"], "Unknown monitor rules 'nightly'"),
        (["--rules", "missing.yaml"], "The monitor rules file 'missing.yaml' does not exist"),
        (["--webhook", "ftp://x"], "must start with http:// or https://"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=0)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["monitor", "--db", str(db), *args])
    assert res.exit_code == 2 and message in res.output, res.output


def test_a_bad_rules_file_and_a_missing_store_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: a, condition: rises}\n")
    db = build(tmp_path / "calibrax.db", slow_runs=0)
    res = CliRunner().invoke(cli, ["monitor", "--rules", str(bad), "--db", str(db)])
    assert res.exit_code == 2 and "condition must be one of" in res.output
    res = CliRunner().invoke(cli, ["monitor", "--rules", str(bad.with_name("x.yaml")), "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 2


@pytest.mark.slow
def test_calibrax_monitor_as_a_user_runs_it(tmp_path: Path, rules: Path) -> None:
    db = build(tmp_path / "calibrax.db", slow_runs=3)
    res = run_cli("calibrax", "monitor", "--rules", str(rules), "--db", str(db), cwd=tmp_path, timeout=120)
    assert res.returncode == 1, res.stderr
    assert "matmul-slower" in res.stdout and "1 critical" in res.stdout
