"""The plugin in real pytest sessions: a suite written here, run by pytest in a subprocess."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from calibrax_pytester import run_pytest

from calibrax.core.models import CaseStatus, RunStatus
from calibrax.pytest_plugin._report import physical_cores
from calibrax.storage import Store

SUITE = textwrap.dedent('''
    import jax
    import jax.numpy as jnp
    import pytest


    @jax.jit
    def square(x):
        return x @ x


    @pytest.mark.parametrize("n", [16, 32])
    def test_matmul(calibrax, n):
        out = calibrax(square, jnp.ones((n, n)))
        assert out.shape == (n, n)


    @pytest.mark.calibrax(params={"kind": "cos"}, profilers=["timing", "flops"])
    def test_cos(calibrax):
        assert float(calibrax(jax.jit(jnp.cos), jnp.zeros(8)).sum()) == 8.0


    @jax.jit
    def broken(x):
        raise ValueError("boom in the timed call")


    def test_raises(calibrax):
        calibrax(broken, jnp.ones(4))


    def test_untimed():
        assert 1 + 1 == 2
''')

EXPECTED = {
    ("test_suite.py::test_matmul", (("n", 16),), CaseStatus.OK),
    ("test_suite.py::test_matmul", (("n", 32),), CaseStatus.OK),
    ("test_suite.py::test_cos", (("kind", "cos"),), CaseStatus.OK),
    ("test_suite.py::test_raises", (), CaseStatus.ERROR),
}


def _cases(db: Path) -> tuple[list[str], set[tuple[str, tuple[tuple[str, object], ...], CaseStatus]], object]:
    with Store.open(db) as store:
        runs = [r.id for r in store.list_runs()]
        record = store.load_run(runs[0])
    got = {(c.benchmark, tuple(sorted(c.params.items())), c.status) for c in record.cases}
    return runs, got, record


@pytest.mark.slow
def test_a_session_is_one_run_holding_every_case_and_the_error(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    out = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=quick", "--calibrax-summary=summary.md",
                     "--calibrax-save=main")
    assert out.returncode == 1, out.stdout + out.stderr  # test_raises fails as a test does
    assert "1 failed, 4 passed" in out.stdout and "ValueError: boom in the timed call" in out.stdout
    runs, got, record = _cases(tmp_path / "calibrax.db")
    assert len(runs) == 1 and got == EXPECTED
    run = record.run  # type: ignore[attr-defined]
    assert run.status is RunStatus.FAILED and run.hardware is not None
    assert run.config["profile"]["name"] == "quick" and "--calibrax" in run.config["pytest"]["args"]
    error = next(c for c in record.cases if c.status is CaseStatus.ERROR)  # type: ignore[attr-defined]
    assert "ValueError: boom in the timed call" in (error.error or "")
    cos = next(c for c in record.cases if c.benchmark.endswith("test_cos"))  # type: ignore[attr-defined]
    assert "flops" in cos.measures or "flops" in cos.unavailable  # the marker's profilers ran
    with Store.open(tmp_path / "calibrax.db") as store:
        assert store.get_baseline("main").run_id == run.id
    assert run.id in (tmp_path / "summary.md").read_text()
    assert f"Run {run.id} (failed): 4 case(s), 1 error(s)" in out.stdout
    assert "Baseline 'main' now points at run" in out.stdout


@pytest.mark.slow
def test_under_xdist_the_workers_fill_one_run(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    (tmp_path / "test_suite.py").write_text(SUITE)
    out = run_pytest(tmp_path, "-p", "xdist", "--calibrax", "--calibrax-profile=quick", "-n", "2",
                     "--calibrax-save=main", "--calibrax-summary=summary.md", timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 failed, 4 passed" in out.stdout
    runs, got, record = _cases(tmp_path / "calibrax.db")
    assert len(runs) == 1 and got == EXPECTED
    workers = {c.meta["pytest"]["worker"] for c in record.cases}  # type: ignore[attr-defined]
    assert workers <= {"gw0", "gw1"} and workers
    assert record.run.status is RunStatus.FAILED and record.run.finished_at  # type: ignore[attr-defined]
    assert record.run.config["pytest"]["workers"] == 2  # type: ignore[attr-defined]
    with Store.open(tmp_path / "calibrax.db") as store:  # the controller finished, saved and summarised it
        assert store.get_baseline("main").run_id == runs[0]
    assert runs[0] in (tmp_path / "summary.md").read_text()
    if physical_cores() < 2:
        assert "Workers shared cores: 2 xdist workers ran on" in out.stdout


MISUSE = textwrap.dedent('''
    import pytest


    def double(x):
        return 2 * x


    def test_twice(calibrax):
        assert calibrax(double, 2) == 4
        calibrax(double, 3)


    @pytest.mark.calibrax(profile="fastest")
    def test_unknown_profile(calibrax):
        calibrax(double, 2)


    @pytest.mark.calibrax(rounds=3)
    def test_bad_marker(calibrax):
        calibrax(double, 2)
''')


@pytest.mark.slow
def test_the_ini_turns_it_on_and_misuse_fails_only_its_test(tmp_path: Path) -> None:
    (tmp_path / "test_misuse.py").write_text(MISUSE)
    (tmp_path / "pytest.ini").write_text("[pytest]\ncalibrax = true\n")
    out = run_pytest(tmp_path, "--calibrax-profile=quick", env_extra={"CALIBRAX_DB": "shared/bench.db"})
    assert out.returncode == 1 and "3 failed" in out.stdout, out.stdout + out.stderr
    assert "test_misuse.py::test_twice already timed one call" in out.stdout
    assert "Unknown calibrax profile 'fastest'" in out.stdout
    assert "takes profile=, profilers= and params=; got rounds" in out.stdout
    runs, got, _ = _cases(tmp_path / "shared" / "bench.db")  # $CALIBRAX_DB, as the calibrax command reads it
    assert len(runs) == 1 and got == {("test_misuse.py::test_twice", (), CaseStatus.OK)}
    assert not (tmp_path / "calibrax.db").exists()


def test_off_the_fixture_only_calls_and_nothing_is_stored(tmp_path: Path) -> None:
    (tmp_path / "test_off.py").write_text("def test_off(calibrax):\n    assert calibrax(pow, 2, 10) == 1024\n")
    out = run_pytest(tmp_path)
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout + out.stderr
    assert not (tmp_path / "calibrax.db").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--calibrax-baseline=main"], "--calibrax-baseline need(s) the calibrax plugin on: add --calibrax"),
    (["--calibrax-save=main", "--calibrax-db=x.db"], "--calibrax-db, --calibrax-save need(s) the calibrax plugin"),
    (["--calibrax", "--calibrax-profile=fastest"], "Unknown calibrax profile 'fastest'; pick one of"),
    (["--calibrax", "--calibrax-baseline=main"], "Unknown baseline 'main'"),
])
def test_a_usage_error_stops_the_session_before_any_test(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    out = run_pytest(tmp_path, *args)
    assert out.returncode == pytest.ExitCode.USAGE_ERROR and message in out.stderr, out.stdout + out.stderr
    assert "1 passed" not in out.stdout


INTERRUPTED = textwrap.dedent('''
    def test_a_timed(calibrax):
        assert calibrax(sum, [1, 2]) == 3


    def test_b_stops_the_session():
        raise KeyboardInterrupt
''')


@pytest.mark.slow
def test_an_interrupted_session_keeps_its_cases_and_is_not_gated(tmp_path: Path) -> None:
    (tmp_path / "test_stop.py").write_text(INTERRUPTED)
    first = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=quick", "-k", "test_a", "--calibrax-save=main")
    assert first.returncode == 0, first.stdout + first.stderr
    out = run_pytest(tmp_path, "--calibrax", "--calibrax-profile=quick", "--calibrax-baseline=main",
                     "--calibrax-save=next")
    assert out.returncode == pytest.ExitCode.INTERRUPTED, out.stdout + out.stderr
    assert "was interrupted: it keeps the cases timed so far" in out.stdout
    with Store.open(tmp_path / "calibrax.db") as store:
        latest = store.list_runs()[0]
        assert latest.status is RunStatus.INTERRUPTED and len(store.load_run(latest.id).cases) == 1
        assert [b.name for b in store.list_baselines()] == ["main"] and not store.load_verdicts(latest.id)
