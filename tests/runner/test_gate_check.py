"""A gated measure that nothing in the run produces is refused before anything runs."""

from __future__ import annotations

import pytest

import calibrax.profiling  # noqa: F401  (registers the profilers)
from calibrax.core.errors import ConfigError
from calibrax.metrics import MetricSpec
from calibrax.runner.config import CalibraxConfig
from calibrax.runner.plan import PlannedBenchmark, check_gate


def _config(gate: list[str], profilers: list[str] | None = None, cold: bool = False) -> CalibraxConfig:
    cfg = CalibraxConfig()
    cfg.thresholds.gate = gate
    if profilers is not None:
        cfg.profile.profilers = profilers
    cfg.profile.cold_compile = cold
    return cfg


@pytest.mark.parametrize(("gate", "profilers", "cold"), [
    (["time"], None, False),
    (["time", "device_time", "compile_time", "throughput"], None, False),
    (["flops", "bytes_accessed"], ["timing", "flops"], False),
    (["roofline_efficiency", "flops"], ["timing", "roofline"], False),  # roofline selects flops
    (["energy", "carbon"], ["timing", "carbon"], False),
    (["peak_rss"], ["all"], False),
    (["cold_compile_time"], None, True),
])
def test_producible_measures_may_be_gated(gate: list[str], profilers: list[str] | None, cold: bool) -> None:
    check_gate(_config(gate, profilers, cold), [])


def test_a_typo_in_the_gate_is_refused_with_close_matches() -> None:
    with pytest.raises(ConfigError) as err:
        check_gate(_config(["tme"]), [])
    text = str(err.value)
    assert "thresholds.gate names 'tme'" in text and "Did you mean 'time'?" in text and "gate nothing" in text


def test_a_profiler_measure_needs_its_profiler_and_the_message_says_which() -> None:
    with pytest.raises(ConfigError, match=r"profile\.profilers=\[timing,flops\]"):
        check_gate(_config(["time", "flops"]), [])
    with pytest.raises(ConfigError, match="cold_compile_time"):
        check_gate(_config(["cold_compile_time"]), [])


def test_a_quality_metric_may_be_gated_only_when_a_planned_benchmark_declares_it() -> None:
    planned = [PlannedBenchmark("classifier", "bench", ({},), (MetricSpec("accuracy"),))]
    check_gate(_config(["time", "accuracy"]), planned)
    with pytest.raises(ConfigError, match="'accuracy'"):
        check_gate(_config(["time", "accuracy"]), [PlannedBenchmark("matmul", "bench", ({},))])
