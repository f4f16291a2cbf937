"""testing: the conformance suites that every exporter and profiler passes, shipped for plugins.

A plugin adopts a suite in three lines, as Hydra's launcher plugins adopt its launcher test
suites: subclass the suite in a test module and name the member under test.

Example:
    A test module of a plugin that registers an exporter ``slides`` and a profiler ``power``::

        from calibrax.testing import ExporterConformance, ProfilerConformance

        class TestSlidesExporter(ExporterConformance):
            exporter = "slides"

        class TestPowerProfiler(ProfilerConformance):
            profiler = "power"

    pytest then runs every check of the suites against them.

``ExporterConformance`` renders a realistic run whose benchmark names, params, errors and
config hold text hostile to every markup (:data:`HOSTILE`), with all stored parts
(:func:`hostile_report`), and checks: the declarations (``output``, ``needs`` within
``calibrax.exporters.NEEDS``, ``filename``) are valid; the settings dataclass's defaults
render; ``export_all`` writes exactly what ``output`` declares and the exporter never opens the
store; hostile names stay text (HTML escaped, JSON and XML parse); the same input gives the
same output (set ``deterministic = False`` for an exporter whose file holds ids a remote
service makes); a bare record renders without the stored parts; and a declared sweep page
renders. Trackers run offline inside a scratch folder; an exporter whose optional package is
missing is skipped with its ``pip install`` line.

``ProfilerConformance`` checks that the profiler is registered under its name and built from a
``ProfileContext``; its ``needs`` resolve to registered profilers run before it; the lifecycle
``compiled`` -> ``start`` -> ``stop`` -> ``collect`` returns a ``ProfileOutput``; and, timed as
the runner times a case, it measures something or says why not, never both for one measure,
never stores an unavailable measure (as 0 or otherwise), and its samples are finite and have
units. JAX is imported only when a profiler test runs.

This package imports pytest; it is imported by tests only, never by ``calibrax`` itself.
"""

from calibrax.testing._exporters import ExporterConformance
from calibrax.testing._profilers import ProfilerConformance
from calibrax.testing._records import HOSTILE, hostile_record, hostile_report

__all__ = ["HOSTILE", "ExporterConformance", "ProfilerConformance", "hostile_record", "hostile_report"]
