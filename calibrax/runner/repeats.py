"""``ci.repeats``: the candidate's cases measured again, each time in fresh worker processes.

With ``ci=stored ci.repeats=R`` the run's own measurement is the first of R runs of the
candidate; this module makes the other R - 1 (timing only, no profilers), so the stored gate
knows the candidate's own between-run spread (see :func:`calibrax.ci.check.check_stored`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from calibrax.analysis import GatePolicy, RunLevel, RunsByCase, run_level
from calibrax.core.models import CaseStatus
from calibrax.runner.config import CalibraxConfig
from calibrax.runner.isolation import WorkerJob, run_isolated
from calibrax.runner.plan import PlannedBenchmark, protocol_settings

__all__ = ["measure_repeats"]

log = logging.getLogger("calibrax")


def measure_repeats(cfg: CalibraxConfig, cwd: str, planned: Sequence[PlannedBenchmark], policy: GatePolicy,
                    repeats: int) -> RunsByCase:
    """``repeats - 1`` further runs of every case with a statistical gated measure.

    Each further run measures each benchmark's cases in a fresh worker process, as the run
    itself did. Returns, per (case key, measure), the further runs' medians with their CIs, in
    the order measured; a case that did not end ok in a repeat is left out of that repeat.

    Example:
        found = measure_repeats(cfg, "/repo", planned, policy, 3)
        len(found[("matmul{\\"n\\": 64}", "time")])  # 2
    """
    out: dict[tuple[str, str], list[RunLevel]] = {}
    profile = cfg.profile
    for number in range(2, repeats + 1):
        log.info("ci.repeats: candidate run %d of %d", number, repeats)
        for bench in planned:
            measures = [m for m in policy.gated(bench.name) if policy.rule(bench.name, m).rule == "statistical"]
            if not measures:
                continue
            job = WorkerJob(bench.name, bench.source, list(enumerate(bench.cases)),
                            protocol_settings(profile, allow_recompile=bench.allow_recompile),
                            cfg.hardware.platform, [cwd], profile.case_timeout, profile.worker_start_timeout)
            for _, case in run_isolated(job):
                if case.status is not CaseStatus.OK:
                    continue
                for name in measures:
                    result = case.measures.get(name)
                    if result is not None and result.samples:
                        out.setdefault((case.key, name), []).append(run_level(result.samples))
    return {key: tuple(levels) for key, levels in out.items()}
