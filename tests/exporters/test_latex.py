"""Tests of the latex exporter: the output compiles with pdflatex, escapes, units and bold."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from report_records import make_record, measure_result, ok_case

from calibrax.core import CaseResult, CaseStatus, ExporterError, RunRecord
from calibrax.exporters import get_exporter, latex_context
from calibrax.exporters._tex import column_scale, format_number, tex_escape

SPECIALS = "_ & % $ # { } ~ ^ \\ < > | \" -- µ × ü 🚀 \x1b"


def _pdflatex() -> str:
    path = shutil.which("pdflatex")
    assert path, "pdflatex is missing: run scripts/system-deps.sh (make test does) to install TeX Live."
    return path


def _compile(folder: Path, main: str) -> str:
    """Compile ``main`` (a .tex file in ``folder``) and return the log; fail on any error."""
    result = subprocess.run(
        [_pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", main],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )
    log = (folder / main).with_suffix(".log").read_text(encoding="latin-1")
    assert result.returncode == 0, log[-3000:]
    assert (folder / main).with_suffix(".pdf").stat().st_size > 1000
    return log


def _render(record: RunRecord, **settings: object) -> str:
    return get_exporter("latex").render(record, settings)


def _hostile_record() -> RunRecord:
    record = make_record()
    hostile = ok_case(SPECIALS, {SPECIALS: SPECIALS}, 0.002, 9)
    run = replace(record.run, id="run_#1 & 50%", git=replace(record.run.git, branch="feat/~x^y_{z}"))
    return replace(record, run=run, cases=(*record.cases, hostile))


def test_standalone_document_compiles_with_every_special_character(tmp_path: Path) -> None:
    text = _render(_hostile_record())
    assert text.lstrip().startswith("%") and "\\documentclass[10pt]{article}" in text
    for package in ("siunitx", "standalone"):
        assert package not in text
    (tmp_path / "report.tex").write_text(text, encoding="utf-8")
    log = _compile(tmp_path, "report.tex")
    assert "Missing character" not in log


def test_fragment_inputs_into_a_paper_that_compiles(tmp_path: Path) -> None:
    fragment = _render(_hostile_record(), mode="fragment")
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    (tmp_path / "results.tex").write_text(fragment, encoding="utf-8")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n"
        "\\begin{document}\nSee Table~\\ref{tab:calibrax-run-1-50-matmul}.\n\\input{results}\n\\end{document}\n",
        encoding="utf-8",
    )
    _compile(tmp_path, "paper.tex")


def test_long_table_breaks_across_pages_and_compiles(tmp_path: Path) -> None:
    record = make_record()
    cases = tuple(ok_case("matmul", {"n": n}, 1e-3 * (1 + n / 100), n) for n in range(80))
    text = _render(replace(record, cases=cases, verdicts=()))
    assert "\\begin{longtable}" in text and "\\endhead" in text
    (tmp_path / "long.tex").write_text(text, encoding="utf-8")
    log = _compile(tmp_path, "long.tex")
    pages = re.search(r"Output written on long\.pdf \((\d+) pages?", log)
    assert pages and int(pages.group(1)) >= 2


def test_tables_use_booktabs_rules_and_units_in_headers() -> None:
    text = _render(make_record())
    table = text[text.index("\\begin{tabular}{llrr}"):text.index("\\end{tabular}")]
    assert [line for line in table.splitlines() if line.endswith("rule")] == ["\\toprule", "\\midrule", "\\bottomrule"]
    assert "n & dtype & time (ms) & compile\\_time (s) \\\\" in table  # a column per param
    assert "\\hline" not in text
    one = _render(make_record(), split="none")
    assert "Benchmark & Params & time" in one


def test_one_readable_table_per_benchmark_never_shrunk() -> None:
    text = _render(make_record())
    assert "resizebox" not in text and text.count("\\small") == text.count("\\begin{table}")
    captions = [line for line in text.splitlines() if line.startswith("\\caption{")]
    assert captions[0].startswith("\\caption{\\texttt{matmul}, calibrax run") and len(captions) == 6  # 5 benchmarks, verdicts
    labels = re.findall(r"\\label\{([^}]*)\}", text)
    assert labels[0] == "tab:calibrax-20250301-120000-ab12-matmul" and len(set(labels)) == len(labels)


def test_many_measures_continue_in_another_table() -> None:
    record = make_record()
    names = ["time", "compile_time", "throughput", "flops", "bytes_accessed", "peak_rss", "energy"]
    case = ok_case("wide", {"n": 1}, 0.001, 1)
    case = replace(case, measures={n: measure_result(n, [1.0, 2.0, 3.0]) if n != "time" else case.measures["time"]
                                   for n in names})
    text = _render(replace(record, cases=(case,), verdicts=()), max_columns=4)
    assert "(part 1 of 2)" in text and "(part 2 of 2)" in text
    specs = re.findall(r"\\begin\{tabular\}\{(l)(r+)\}", text)
    assert len(specs) == 2 and len(specs[0][1]) == 4 and 1 <= len(specs[1][1]) <= 4
    with pytest.raises(ExporterError, match="max_columns setting must be a whole number of at least 1"):
        _render(record, max_columns=0)


def test_values_are_median_with_uncertainty_in_the_column_unit() -> None:
    record = make_record()
    summary = record.cases[0].measures["time"].summary
    assert summary is not None
    half = (summary.ci_high - summary.ci_low) / 2 * 1e3
    pm = _render(record, best="none")
    assert f"256 & float32 & {summary.median * 1e3:.2f}\\,$\\pm$\\,{half:.2f}" in pm
    ci = _render(record, uncertainty="ci")
    expected = f"{summary.median * 1e3:.2f} [{summary.ci_low * 1e3:.2f}, {summary.ci_high * 1e3:.2f}]"
    assert expected in ci


def test_an_asymmetric_interval_keeps_both_arms() -> None:
    from calibrax.core import STANDARD_MEASURES, MeasureResult, Summary

    skewed = Summary(n=20, median=97.3e-6, mean=150e-6, min=70e-6, max=400e-6, std=80e-6, iqr=50e-6, mad=20e-6,
                     ci_low=79e-6, ci_high=329e-6)
    case = CaseResult("skew", {"n": 1}, CaseStatus.OK,
                      {"time": MeasureResult(STANDARD_MEASURES["time"], (97.3e-6,) * 20, skewed)})
    text = _render(replace(make_record(), cases=(case,), verdicts=()), measures=["time"])
    row = next(line for line in text.splitlines() if line.startswith("1 & "))
    assert row == "1 & 97.3$^{+231.7}_{-18.3}$ \\\\" and "$\\pm$" not in row  # not 97.3 +- 124.9
    assert "97.3 [79.0, 329.0]" in _render(replace(make_record(), cases=(case,), verdicts=()), uncertainty="ci")


def test_best_value_is_bold_in_the_measures_direction() -> None:
    record = make_record()
    fast = ok_case("bench", {"n": 1, "impl": "xla"}, 0.001, 1)
    slow = ok_case("bench", {"n": 1, "impl": "pallas"}, 0.004, 2)
    # Throughput: higher is better, so the slow case's larger number must not win.
    fast = replace(fast, measures={**fast.measures, "throughput": measure_result("throughput", [50.0, 51.0, 52.0])})
    slow = replace(slow, measures={**slow.measures, "throughput": measure_result("throughput", [90.0, 91.0, 92.0])})
    text = _render(replace(record, cases=(fast, slow), verdicts=()), measures=["time", "throughput"])
    rows = {line.split(" & ")[1]: line for line in text.splitlines() if line.startswith("1 & ")}
    time_fast, thr_fast = rows["xla"].split(" & ")[2:4]
    time_slow, thr_slow = rows["pallas"].split(" & ")[2:4]
    assert time_fast.startswith("\\textbf{") and not time_slow.startswith("\\textbf{")
    assert thr_slow.startswith("\\textbf{") and not thr_fast.startswith("\\textbf{")
    none = _render(replace(record, cases=(fast, slow), verdicts=()), best="none")
    assert "\\textbf" not in none


def test_best_is_chosen_only_among_comparable_rows() -> None:
    record = make_record()
    cases = (
        ok_case("a", {"n": 1, "impl": "x"}, 0.001, 1),
        ok_case("a", {"n": 1, "impl": "y"}, 0.003, 2),
        ok_case("a", {"n": 2, "impl": "x"}, 0.004, 3),  # alone at its size: nothing to beat
        ok_case("b", {"n": 1, "impl": "x"}, 0.0005, 4),  # faster, but another benchmark
    )
    for settings in ({}, {"split": "none"}):
        text = _render(replace(record, cases=cases, verdicts=()), measures=["time"], **settings)
        bold = [line for line in text.splitlines() if "\\textbf" in line]
        assert len(bold) == 1 and ("a & n=1, impl=x" in bold[0] or bold[0].startswith("1 & x &")), (settings, bold)
    per_benchmark = _render(replace(record, cases=cases, verdicts=()), measures=["time"], best="benchmark")
    assert len([line for line in per_benchmark.splitlines() if "\\textbf" in line]) == 1  # b has one case


def test_failed_cases_span_the_measure_columns() -> None:
    text = _render(make_record())
    assert "3 & \\multicolumn{1}{c}{\\textit{error}} \\\\" in text  # a failed benchmark still gets its table
    assert "4096 & \\multicolumn{1}{c}{\\textit{crashed}} \\\\" in text
    one = _render(make_record(), split="none")
    assert "conv & k=3 & \\multicolumn{2}{c}{\\textit{error}} \\\\" in one


def test_verdict_table_lists_regressions_first_and_says_what_it_compared_with() -> None:
    text = _render(make_record())
    verdicts = text[text.index("Benchmark & Params & Measure"):]
    rows = [line for line in verdicts.splitlines() if line.startswith("matmul &") or line.startswith("mlp")]
    assert rows[0].endswith("& 1.31$\\times$ & regressed \\\\")
    assert "Verdicts against the baseline main (run 20250228-090000-cd34)" in text
    assert "Verdict" not in _render(replace(make_record(), verdicts=()))
    absolute = _render(replace(make_record(), baseline={}))
    assert "Verdicts of the absolute thresholds" in absolute and "against the baseline" not in absolute


def test_bad_settings_are_exporter_errors() -> None:
    record = make_record()
    with pytest.raises(ExporterError, match="mode setting must be one of standalone, fragment"):
        _render(record, mode="paper")
    with pytest.raises(ExporterError, match="list of measure names"):
        _render(record, measures="time")


def test_label_caption_and_missingmeasure_result() -> None:
    record = make_record()
    context = latex_context(record, {"caption": "50% faster & better", "label": "tab:mine"})
    assert context["tables"][0].caption == "50\\% faster \\& better (matmul)" and context["label"] == "tab:mine"
    assert context["tables"][0].label == "tab:mine-matmul"
    text = _render(replace(record, cases=(CaseResult("x", {}, CaseStatus.OK),)), measures=["time"])
    assert "\nBenchmark & time (s) \\\\" in text and "\nx & -- \\\\" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a_b", "a\\_b"),
        ("50%", "50\\%"),
        ("{x}", "\\{x\\}"),
        ("~^", "\\~{}\\^{}"),
        ("\\", "\\textbackslash{}"),
        ("a--b", "a-{}-{}b"),
        ("µs", "$\\mu$s"),
        ("é", "é"),
        ("🚀", "\\texttt{[U+1F680]}"),
        ("a\nb", "a b"),
    ],
)
def test_tex_escape(text: str, expected: str) -> None:
    assert tex_escape(text) == expected


def test_column_scale_and_number_format() -> None:
    assert column_scale([2e-7, 4e-7], "s").unit == "ns"
    assert column_scale([12.0], "s").unit == "s"
    assert column_scale([5e9], "items/s").unit == "Gitems/s"
    assert column_scale([], "s").unit == "s"
    assert format_number(15.634) == "15.6"
    assert format_number(float("nan")) == "n/a"
