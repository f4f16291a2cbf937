"""One stored run per pytest session, xdist workers included, judged and summarised at its end.

Without xdist the session's process begins the run when its first call is timed. Under
``pytest -n N`` the controller begins it before the workers start and hands them its id
(``workerinput``); each worker opens the same WAL store and adds its cases as they are timed;
the controller hears what each worker saw (``workeroutput``), then finishes the run, gates it
against ``--calibrax-baseline`` with the verdicts of ``calibrax check``, moves
``--calibrax-save`` and writes ``--calibrax-summary``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from calibrax.ci import CheckResult, check_run, summary_lines
from calibrax.core.errors import CalibraxError
from calibrax.core.exitcodes import ExitCode
from calibrax.core.models import CaseStatus, HardwareInfo, RunInfo, RunStatus
from calibrax.profiling import ProfilingOptions, TimingProtocol, device_info, hardware_info, host_info
from calibrax.pytest_plugin._call import workload_of
from calibrax.pytest_plugin._report import case_lines, physical_cores, shared_cores_note
from calibrax.pytest_plugin._settings import PluginSettings, marker_options, profile_config
from calibrax.pytest_plugin._timing import time_call
from calibrax.runner.config import config_to_dict
from calibrax.runner.execute import utc_now
from calibrax.runner.plan import protocol_settings
from calibrax.runner.profilers import check_profilers, profiling_options
from calibrax.runner.run import git_info, new_run_id, trace_root
from calibrax.storage import Store

__all__ = ["DB_KEY", "RUN_ID_KEY", "CalibraxSession", "case_identity"]

RUN_ID_KEY = "calibrax_run_id"
"""The ``workerinput`` key that carries the controller's run id to each xdist worker."""

DB_KEY = "calibrax_db"
"""The ``workerinput`` key that carries the controller's store path to each xdist worker."""

_PLAIN = (bool, int, float, str, type(None))


def _plain(value: Any) -> Any:
    """A parametrize value as it is stored: plain values as they are, lists and dicts of them
    too, anything else by its name (a function, a class) or its type's name."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, _PLAIN) for v in value):
        return list(value)
    if isinstance(value, Mapping) and all(isinstance(v, _PLAIN) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return getattr(value, "__name__", None) or type(value).__name__


def case_identity(node: pytest.Item) -> tuple[str, dict[str, Any]]:
    """The case a test times: its node id without the parametrize suffix, and its params.

    ``test_ops.py::test_sum[64-float32]`` of ``@pytest.mark.parametrize("n,dtype", ...)``
    becomes benchmark ``test_ops.py::test_sum`` with params ``{"n": 64, "dtype": "float32"}``.
    """
    callspec = getattr(node, "callspec", None)
    if callspec is None:
        return node.nodeid, {}
    suffix = f"[{callspec.id}]"
    name = node.nodeid[: -len(suffix)] if node.nodeid.endswith(suffix) else node.nodeid
    return name, {str(k): _plain(v) for k, v in callspec.params.items()}


@dataclass
class _Timing:
    """The protocol and profiling options of one profile and profiler choice."""

    protocol: TimingProtocol
    profiling: ProfilingOptions


@dataclass
class CalibraxSession:
    """The plugin's state for one pytest process: the controller's, a worker's or the only one.

    Registered by :func:`calibrax.pytest_plugin.pytest_configure` when the plugin is on; its
    ``time`` method is what the ``calibrax`` fixture calls.
    """

    config: pytest.Config
    settings: PluginSettings
    run_id: str = field(default_factory=new_run_id)
    worker_id: str | None = None
    stored: int = 0
    loads: list[float] = field(default_factory=list)
    workers: list[Mapping[str, Any]] = field(default_factory=list)
    check: CheckResult | None = None
    notes: list[str] = field(default_factory=list)
    _store: Store | None = None
    _begun: bool = False
    _hardware: HardwareInfo | None = None
    _timings: dict[tuple[str, tuple[str, ...] | None], _Timing] = field(default_factory=dict)

    def __post_init__(self) -> None:
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is not None:
            self.worker_id = str(workerinput.get("workerid"))
            self.run_id = str(workerinput[RUN_ID_KEY])
            self.settings = replace(self.settings, db=Path(workerinput[DB_KEY]))  # the controller's store
            self._begun = True  # the controller began it

    # the store and the run

    @property
    def store(self) -> Store:
        """The store, opened on first use in this process."""
        if self._store is None:
            cfg = profile_config(self.settings.cwd, self.settings.profile)
            self._store = Store.open(self.settings.db, busy_timeout=cfg.store.busy_timeout)
        return self._store

    def begin(self) -> None:
        """Store the run (once, in the controller or the only process)."""
        if self._begun:
            return
        cfg = profile_config(self.settings.cwd, self.settings.profile)
        stored = config_to_dict(cfg)
        stored["pytest"] = {"args": [str(a) for a in self.config.invocation_params.args],
                            "rootdir": str(self.config.rootpath), "workers": _numprocesses(self.config)}
        self.store.begin_run(RunInfo(self.run_id, utc_now(), RunStatus.RUNNING, git_info(self.settings.cwd),
                                     None, stored))
        self._begun = True

    def _hardware_info(self) -> HardwareInfo:
        if self._hardware is None:
            cfg = profile_config(self.settings.cwd, self.settings.profile)
            self._hardware = hardware_info(host_info(), device_info(cfg.hardware.platform))
            self.store.set_run_hardware(self.run_id, self._hardware)
        return self._hardware

    def _timing(self, profile: str, profilers: list[str] | None) -> _Timing:
        key = (profile, tuple(profilers) if profilers is not None else None)
        if key not in self._timings:
            cfg = profile_config(self.settings.cwd, profile, profilers)
            check_profilers(cfg.profile)
            protocol = TimingProtocol(**protocol_settings(cfg.profile))
            options = profiling_options(cfg, self._hardware_info(), trace_root(cfg.profile, self.store.path,
                                                                                self.run_id))
            self._timings[key] = _Timing(protocol, options)
        return self._timings[key]

    # the fixture

    def time(self, node: pytest.Item, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Time ``fn(*args, **kwargs)`` as the test's case, store it, and return the call's result.

        Raises:
            ConfigError: a bad marker, an unknown profile or profiler, a second timed call in
                one test, or ``fn`` not callable (nothing is stored).
            Exception: whatever the timed call raised (the case is stored as ``error`` first).
        """
        __tracebackhide__ = True  # a failing test shows its own frames, not the plugin's
        name, params = case_identity(node)
        marker = node.get_closest_marker("calibrax")
        profile, profilers, extra = marker_options(dict(marker.kwargs) if marker else {}, node.nodeid)
        if node.stash.get(_TIMED, False):
            raise CalibraxError(f"{node.nodeid} already timed one call; the calibrax fixture times one call per "
                                "test (split the test, or parametrize it so each call is its own case).")
        workload = workload_of(fn, args, kwargs)
        self.begin()
        timing = self._timing(profile or self.settings.profile, profilers)
        node.stash[_TIMED] = True
        meta = {"pytest": {"nodeid": node.nodeid, "worker": self.worker_id,
                           "profile": profile or self.settings.profile}}
        timed = time_call(name, {**params, **extra}, workload, timing.protocol, timing.profiling, meta)
        self.store.add_case(self.run_id, timed.case)
        self.stored += 1
        if hasattr(os, "getloadavg"):
            self.loads.append(os.getloadavg()[0])
        if timed.exception is not None:
            raise timed.exception
        return timed.result

    # pytest hooks

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.worker_id is None and self.config.pluginmanager.has_plugin("dsession"):
            self.begin()  # the workers add their cases to it

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_ID_KEY] = self.run_id
        node.workerinput[DB_KEY] = str(self.settings.db)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        report = getattr(node, "workeroutput", {}).get("calibrax")
        if report is not None:
            self.workers.append(report)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker_id is not None:
            self.config.workeroutput["calibrax"] = {  # type: ignore[attr-defined]
                "worker": self.worker_id, "cases": self.stored, "load": max(self.loads, default=None)}
        elif self._begun and session.exitstatus == pytest.ExitCode.INTERRUPTED:
            self.store.finish_run(self.run_id, RunStatus.INTERRUPTED, utc_now())
            self.notes.append(f"Run {self.run_id} was interrupted: it keeps the cases timed so far, "
                              "and is neither gated nor saved as a baseline.")
        elif self._begun:
            code = self._finish()
            if code and session.exitstatus == ExitCode.OK:
                session.exitstatus = code
        if self._store is not None:
            self._store.close()
            self._store = None

    def _finish(self) -> int:
        """Finish the run, gate it, move the baseline and write the summary; the exit code."""
        cases = self.store.load_run(self.run_id).cases
        ok = all(c.status is CaseStatus.OK for c in cases)
        self.store.finish_run(self.run_id, RunStatus.OK if ok else RunStatus.FAILED, utc_now())
        code = ExitCode.OK
        if self.settings.baseline:
            try:
                self.check = check_run(self.store, self.run_id, self.settings.baseline)
            except CalibraxError as exc:
                self.notes.append(f"Error: {exc}")
                code = ExitCode.USAGE
            else:
                code = ExitCode.REGRESSION if self.check.regressions else code
        note = self._shared_note()
        if note:
            self.notes.append(note)
        if self.settings.save:
            self.store.set_baseline(self.settings.save, self.run_id)
            self.notes.append(f"Baseline {self.settings.save!r} now points at run {self.run_id}.")
        if self.settings.summary is not None:
            self._write_summary(self.settings.summary)
        return int(code)

    def _shared_note(self) -> str | None:
        count = max(len(self.workers), _numprocesses(self.config) or 0)
        loads = [float(w["load"]) for w in self.workers if w.get("load") is not None]
        return shared_cores_note(count, physical_cores(), max(loads, default=None))

    def _write_summary(self, path: Path) -> None:
        from calibrax.exporters import get_exporter

        record = self.store.load_run(self.run_id)
        if self.check is not None:
            record = replace(record, verdicts=self.check.verdicts,
                             baseline={"name": self.check.baseline_name, "run_id": self.check.baseline_run_id})
        text = get_exporter("markdown").render(record, {})
        extra = "".join(f"\n> {line}\n" for line in self.notes)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + extra, encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker_id is not None or not self._begun:
            return
        write: Callable[[str], None] = terminalreporter.write_line
        terminalreporter.write_sep("-", "calibrax")
        with Store.open(self.settings.db) as store:
            record = store.load_run(self.run_id)
        for line in case_lines(record, self.settings.db):
            write(line)
        if self.check is not None:
            for line in summary_lines(self.check):
                write(line)
        for line in self.notes:
            write(line)


_TIMED = pytest.StashKey[bool]()


def _numprocesses(config: pytest.Config) -> int | None:
    """The number of xdist workers asked for (``-n``), or None without xdist."""
    value = getattr(config.option, "numprocesses", None)
    return value if isinstance(value, int) and value > 0 else None
