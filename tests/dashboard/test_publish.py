"""calibrax publish: the site's data built from a real store, incremental re-publish, and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dashboard_store import ACCEPT_AT, RUNS, SPIKE_AT, STEP_AT, build, commit, run_id
from factories import time_case

from calibrax.core import CalibraxError, GitInfo, NotFoundError, RunInfo, RunStatus
from calibrax.dashboard import Columns, build_benchmark, publish, run_index
from calibrax.storage import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build(tmp_path_factory.mktemp("dash") / "calibrax.db")


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text.split(" = ", 1)[1].rstrip().rstrip(";"))


def _page_file(site: Path, name: str) -> Path:
    return next(p for p in site.glob(f"data/b/{name}-*.js") if ".base-" not in p.name)


def _base_file(site: Path, name: str) -> Path:
    [found] = site.glob(f"data/b/{name}-*.base-*.js")  # one base file per page: older ones are removed
    return found


def _drawn(site: Path, name: str) -> dict[str, Any]:
    """The page's data as the page draws it: each series' points from the base file, then its
    own, as (position, median, CI offsets) in the series' scale."""
    page, base = _load(_page_file(site, name)), _load(_base_file(site, name))["series"]
    series = []
    for s in page["series"]:
        points, pos = [], 0
        for part in (base.get(f"{s['p']}\0{page['hardware'][s['h']]}"), s):
            for dx, m, lo, hi in zip(*(part[k] for k in ("x", "m", "lo", "hi")), strict=True) if part else ():
                pos += dx
                points.append((pos, m * 10.0 ** part["e"], lo, hi))
        series.append({**{k: v for k, v in s.items() if k not in ("x", "m", "lo", "hi", "e")}, "points": points})
    return {**page, "series": series}


def _page(store: Store, name: str) -> dict[str, Any]:
    runs = run_index(store)
    found = store.case_rows(benchmarks=[name])
    columns = Columns.from_rows(found["rows"], *found["units"][name])
    return dict(build_benchmark(name, columns, runs, store.load_annotations()).page)


def _series(page: dict[str, Any], params: dict[str, Any], hw: int = 0) -> dict[str, Any]:
    key = json.dumps(params, sort_keys=True)
    [found] = [s for s in page["series"] if s["p"] == key and s["h"] == hw]
    return found


def _positions(series: dict[str, Any]) -> list[int]:
    out, pos = [], 0
    for dx in series["x"]:
        pos += dx
        out.append(pos)
    return out


def test_series_are_grouped_per_case_and_hardware_in_run_order(store: Store) -> None:
    page = _page(store, "matmul")
    assert page["unit"] == "s" and page["direction"] == "lower" and page["params"] == ["dtype", "n"]
    assert len(page["hardware"]) == 2
    hw_a, hw_b = sorted((_series(page, {"n": 64, "dtype": "float32"}, h) for h in (0, 1)), key=lambda s: -len(s["m"]))
    assert len(hw_a["m"]) + len(hw_b["m"]) == RUNS
    assert _positions(hw_b) == [i for i in range(RUNS) if i % 4 == 3]
    # bfloat16 was only measured on one hardware: no series offers it on the other
    assert [s["h"] for s in page["series"] if '"bfloat16"' in s["p"]] == [hw_a["h"]]


def test_values_decode_to_the_stored_medians_and_cis(store: Store) -> None:
    page = _page(store, "matmul")
    s = _series(page, {"n": 64, "dtype": "float32"}, 1)
    rows = {r["run_id"]: r for r in store.history("matmul", params={"n": 64, "dtype": "float32"})}
    runs = run_index(store)
    for pos, m, lo, hi in zip(_positions(s), s["m"], s["lo"], s["hi"], strict=True):
        row = rows[runs.ids[pos]]
        scale = 10.0 ** s["e"]
        assert m * scale == pytest.approx(row["median"], rel=1e-5)
        assert (m - lo) * scale == pytest.approx(row["ci_low"], rel=1e-4)
        assert (m + hi) * scale == pytest.approx(row["ci_high"], rel=1e-4)


def test_the_step_is_a_changepoint_at_its_run(store: Store) -> None:
    page = _page(store, "matmul")
    s = max((_series(page, {"n": 64, "dtype": "float32"}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    [cp] = s["cp"]
    assert abs(cp[0] - STEP_AT) <= 1 and cp[1] == pytest.approx(0.2, abs=0.04) and cp[2] < 0.01


def test_an_excluded_case_is_not_drawn_and_the_others_of_its_run_are(store: Store) -> None:
    page = _page(store, "matmul")
    drawn = {h: _positions(_series(page, {"n": 128, "dtype": "float32"}, h)) for h in (0, 1)}
    assert SPIKE_AT not in drawn[0] + drawn[1] and len(drawn[0] + drawn[1]) == RUNS - 1
    assert SPIKE_AT in sum((_positions(_series(page, {"n": 64, "dtype": "float32"}, h)) for h in (0, 1)), [])
    assert [n[1:] for n in page["notes"] if n[1] == "exclude"] == [
        ["exclude", "noisy neighbour", 'matmul{"dtype": "float32", "n": 128}']]


def test_an_accepted_shift_restarts_the_segments_instead_of_being_a_changepoint(store: Store) -> None:
    page = _page(store, "conv")
    s = max((_series(page, {"k": 3}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    assert all(t["cp"] == [] for t in page["series"])
    kinds = [(seg[0], seg[3]) for seg in s["seg"]]
    assert kinds == [(0, "start"), (ACCEPT_AT, "accept")]  # run 25 is on the hardware with 30 runs
    before, after = s["seg"][0][2], s["seg"][1][2]
    assert after / before == pytest.approx(1.3, abs=0.03)


def test_publish_writes_a_site_whose_index_and_regressions_hold_every_case(store: Store, tmp_path: Path) -> None:
    result = publish(store, tmp_path / "site", commit_url="https://example.org/c/{sha}")
    site = tmp_path / "site"
    assert result.benchmarks == 2 and set(result.written) == {"conv", "matmul"} and result.kept == 0
    rows = _load(site / "data" / "index.js")
    assert len(rows) == 7  # conv, matmul n=64 and n=128 float32 on 2 hardware, matmul bfloat16 on 1
    step = [r for r in rows if r["b"] == "matmul" and r["p"] == '{"dtype": "float32", "n": 64}' and r["cp"]]
    assert step and step[0]["cp"]["commit"] == commit(int(step[0]["cp"]["run"][4:])) and step[0]["cp"]["worse"]
    worse = _load(site / "data" / "regressions.js")
    assert [r["b"] for r in worse] == ["matmul"] and worse[0]["rel"] > 0.1
    feed = (site / "regressions.xml").read_text(encoding="utf-8")
    assert feed.count("<entry>") == 1 and "matmul" in feed
    assert _load(site / "data" / "site.js")["commit_url"] == "https://example.org/c/{sha}"
    assert _load(site / "data" / "runs.js")["id"] == [run_id(i) for i in range(RUNS)]
    for page in site.glob("b/*.html"):
        assert "<script src=\"../data/b/" in page.read_text(encoding="utf-8")
    assert "fetch(" not in (site / "assets" / "dashboard.js").read_text(encoding="utf-8")


def test_republish_rewrites_only_the_pages_a_new_run_changes(tmp_path: Path) -> None:
    store = build(tmp_path / "calibrax.db")
    site = tmp_path / "site"
    publish(store, site)
    assert publish(store, site).written == ()
    info = RunInfo("run-new", "2026-11-03T00:00:00+00:00", RunStatus.RUNNING, GitInfo("f" * 40, "main", False))
    store.begin_run(info)
    store.add_case("run-new", time_case("conv", {"k": 3}, 6.5e-4, seed=9))
    store.finish_run("run-new", RunStatus.OK, info.started_at)
    conv_page, conv_base = _page_file(site, "conv"), _base_file(site, "conv")
    matmul_page = _page_file(site, "matmul")
    matmul_before, base_before = matmul_page.stat().st_mtime_ns, conv_base.stat().st_mtime_ns
    conv_size = conv_page.stat().st_size
    again = publish(store, site)
    assert again.written == ("conv",) and again.kept == 1
    assert matmul_page.stat().st_mtime_ns == matmul_before
    # the new run's point goes to the page's own small file; its base file is left as it was
    assert _base_file(site, "conv") == conv_base and conv_base.stat().st_mtime_ns == base_before
    assert len(_load(conv_page)["series"][0]["m"]) <= 1 and conv_page.stat().st_size < conv_size + 500
    fresh = tmp_path / "fresh"
    publish(store, fresh)
    assert _drawn(site, "conv") == _drawn(fresh, "conv")
    store.exclude("run-new", "a test run")
    assert publish(store, site).written == ("conv", "matmul")  # a run exclusion applies to every benchmark
    add = RunInfo("run-last", "2026-11-03T01:00:00+00:00", RunStatus.RUNNING, GitInfo("e" * 40, "main", False))
    store.begin_run(add)
    store.add_case("run-last", time_case("matmul", {"n": 64, "dtype": "float32"}, 1.2e-3, seed=8))
    store.add_case("run-last", time_case("conv", {"k": 3}, 6.5e-4, seed=7))
    store.finish_run("run-last", RunStatus.OK, add.started_at)
    assert publish(store, site).written == ("conv", "matmul")
    publish(store, fresh)
    for name in ("conv", "matmul"):  # the cached arrays plus the new rows give what a full read gives
        assert _drawn(site, name) == _drawn(fresh, name)


def test_the_base_file_moves_up_once_the_newer_points_outgrow_their_share(tmp_path: Path) -> None:
    from calibrax.dashboard.site import NEWER_SHARE

    store = build(tmp_path / "calibrax.db")
    site = tmp_path / "site"
    publish(store, site)
    first = _base_file(site, "conv")
    kept = []
    for i in range(RUNS // 2):  # 20 newer points of 60: past the share
        info = RunInfo(f"run-more-{i:02d}", f"2026-11-04T00:{i:02d}:00+00:00", RunStatus.RUNNING,
                       GitInfo("d" * 40, "main", False))
        store.begin_run(info)
        store.add_case(info.id, time_case("conv", {"k": 3}, 6.5e-4, seed=20 + i))
        store.finish_run(info.id, RunStatus.OK, info.started_at)
        publish(store, site)
        kept.append(_base_file(site, "conv") == first)
    # kept while the newer points were few, then written again up to the newest run (the old one removed)
    assert kept[:int(NEWER_SHARE * RUNS)] == [True] * int(NEWER_SHARE * RUNS) and not kept[-1] and not first.exists()
    assert sum(len(s["m"]) for s in _load(_page_file(site, "conv"))["series"]) < RUNS // 2  # some moved to the base
    publish(store, tmp_path / "fresh")
    assert _drawn(site, "conv") == _drawn(tmp_path / "fresh", "conv")


def test_since_and_benchmark_narrow_the_site(store: Store, tmp_path: Path) -> None:
    result = publish(store, tmp_path / "site", since="2026-11-02", benchmarks=["conv"])
    assert result.written == ("conv",)
    runs = _load(tmp_path / "site" / "data" / "runs.js")
    assert runs["first"] == 24 and runs["id"][0] == run_id(24)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"benchmarks": ["nope"]}, "nope"),
    ({"commit_url": "https://example.org/commit/"}, "{sha}"),
    ({"report_url": "reports/index.html"}, "{run}"),
    ({"since": "last week"}, "ISO date"),
])
def test_bad_options_are_refused_with_what_would_be_right(store: Store, tmp_path: Path, kwargs: dict[str, Any],
                                                          message: str) -> None:
    with pytest.raises((CalibraxError, NotFoundError), match=message.replace("{", r"\{").replace("}", r"\}")):
        publish(store, tmp_path / "site", **kwargs)


def test_an_accepted_shift_of_one_case_restarts_only_its_series(tmp_path: Path) -> None:
    store = build(tmp_path / "calibrax.db")
    store.accept(run_id(STEP_AT), "the compiler changed", measure="compile_time")
    store.accept(run_id(2), "conv only", benchmark="conv", params={"k": 3})
    page = _page(store, "matmul")
    s = max((_series(page, {"n": 64, "dtype": "float32"}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    assert len(s["cp"]) == 1  # neither acceptance concerns matmul's time
    store.accept(run_id(STEP_AT), "n=64 is slower on purpose", benchmark="matmul",
                 params={"n": 64, "dtype": "float32"}, measure="time")
    page = _page(store, "matmul")
    s = max((_series(page, {"n": 64, "dtype": "float32"}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    assert s["cp"] == [] and [(seg[0], seg[3]) for seg in s["seg"]] == [(0, "start"), (STEP_AT, "accept"),
                                                                       (ACCEPT_AT, "accept")]
    other = max((_series(page, {"n": 128, "dtype": "float32"}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    assert [(seg[0], seg[3]) for seg in other["seg"]] == [(0, "start"), (ACCEPT_AT, "accept")]
    conv = max((_series(_page(store, "conv"), {"k": 3}, h) for h in (0, 1)), key=lambda s: len(s["m"]))
    assert [seg[3] for seg in conv["seg"]] == ["start", "accept", "accept"]
