"""pytest_plugin: time tests with calibrax's protocol and keep them as one stored run.

Installed with calibrax (entry point group ``pytest11``), so pytest loads it in every session;
it stays off, and imports nothing beyond pytest, unless ``--calibrax`` is given or the pytest
ini sets ``calibrax = true``.

Example:
    A test times a jitted function and checks its result::

        import jax, jax.numpy as jnp, pytest

        @pytest.mark.parametrize("n", [64, 256])
        def test_matmul(calibrax, n):
            x = jnp.ones((n, n))
            out = calibrax(jax.jit(lambda a: a @ a), x)
            assert out.shape == (n, n)

    ``pytest --calibrax --calibrax-profile=quick`` stores cases ``test_x.py::test_matmul`` with
    params ``{n: 64}`` and ``{n: 256}`` in ``calibrax.db``; ``--calibrax-baseline=main`` then
    fails the session (exit 1) when one got slower, as ``calibrax check`` does.

``calibrax(fn, *args, **kwargs)`` times ``fn`` as ``calibrax-run`` times a case (input
placement, compile stages, warm-up, calibrated rounds, the recompilation guard, the profile's
profilers) and returns the result of one more call; pass a :class:`calibrax.Workload` to carry
state between calls or build arguments with ``setup``. Off, it calls ``fn`` once and returns
its result, so the tests still run as tests. ``@pytest.mark.calibrax(profile=..., profilers=[...],
params={...})`` sets a test's profile, profilers and extra params.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["SESSION_PLUGIN", "calibrax", "pytest_addoption", "pytest_configure"]

SESSION_PLUGIN = "calibrax-session"
"""The name the session's state is registered under in pytest's plugin manager."""

_VALUED = ("--calibrax-db", "--calibrax-profile", "--calibrax-baseline", "--calibrax-summary", "--calibrax-save")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--calibrax*`` options and the ``calibrax`` ini key."""
    group = parser.getgroup("calibrax", "calibrax: time tests with calibrax's protocol and store them")
    group.addoption("--calibrax", action="store_true", default=False,
                    help="Time the calibrax fixture's calls and store them as one run (off by default).")
    group.addoption("--calibrax-db", metavar="PATH", default=None,
                    help="The store (default: $CALIBRAX_DB, else calibrax.db in the folder pytest started in).")
    group.addoption("--calibrax-profile", metavar="NAME", default=None,
                    help="The timing profile, conf/profile/NAME.yaml: quick, standard (default), rigorous or yours.")
    group.addoption("--calibrax-baseline", metavar="NAME", default=None,
                    help="Gate the session against this baseline, as calibrax check does: exit 1 on a regression.")
    group.addoption("--calibrax-summary", metavar="FILE", default=None,
                    help="Write a Markdown summary of the run here (e.g. $GITHUB_STEP_SUMMARY).")
    group.addoption("--calibrax-save", metavar="NAME", default=None,
                    help="Point this baseline at the session's run when it ends.")
    parser.addini("calibrax", type="bool", default=False, help="Turn the calibrax plugin on, as --calibrax does.")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--calibrax") or config.getini("calibrax"))


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; when the plugin is on, check its options and start its session.

    Raises:
        pytest.UsageError: a ``--calibrax-*`` option without the plugin on, an unknown
            profile, or a baseline the store does not have.
    """
    config.addinivalue_line(
        "markers", "calibrax(profile=None, profilers=None, params=None): the timing profile, profilers and "
        "extra params of the case this test's calibrax fixture times.")
    if not _enabled(config):
        given = [name for name in _VALUED if config.getoption(name) is not None]
        if given:
            raise pytest.UsageError(f"{', '.join(given)} need(s) the calibrax plugin on: add --calibrax "
                                    "(or calibrax = true in the pytest ini).")
        return
    from calibrax.core.errors import CalibraxError
    from calibrax.pytest_plugin._settings import checked_settings

    try:
        settings = checked_settings(config, Path(config.invocation_params.dir))
    except CalibraxError as exc:
        raise pytest.UsageError(str(exc)) from None
    from calibrax.pytest_plugin._session import CalibraxSession

    config.pluginmanager.register(CalibraxSession(config, settings), SESSION_PLUGIN)


class _Untimed:
    """The fixture while the plugin is off: one plain call, its result returned."""

    def __call__(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from calibrax.pytest_plugin._call import untimed

        return untimed(fn, args, kwargs)


@pytest.fixture
def calibrax(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``calibrax(fn, *args, **kwargs)``: time the call as this test's case and return its result.

    Example:
        ``out = calibrax(jax.jit(jnp.sin), x)`` stores the case and gives ``jnp.sin(x)``.
    """
    session = request.config.pluginmanager.get_plugin(SESSION_PLUGIN)
    if session is None:
        return _Untimed()
    node = request.node

    def timed(fn: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return session.time(node, fn, *args, **kwargs)

    return timed
