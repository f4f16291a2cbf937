from __future__ import annotations

import pytest

import calibrax
from calibrax.core import BENCHMARKS, BenchmarkError, Workload, as_workload, expand_grid


def test_expand_grid_is_a_cartesian_product_in_order() -> None:
    assert expand_grid({"n": [1, 2], "m": ["a", "b"]}) == [
        {"n": 1, "m": "a"}, {"n": 1, "m": "b"}, {"n": 2, "m": "a"}, {"n": 2, "m": "b"},
    ]
    assert expand_grid({"n": 7}) == [{"n": 7}]
    assert expand_grid({}) == [{}]


def test_empty_axis_is_an_error() -> None:
    with pytest.raises(BenchmarkError, match="'n' has an empty list"):
        expand_grid({"n": []})


def test_decorator_registers_factory_with_grid(clean_registry: None) -> None:
    @calibrax.benchmark("t_add", params={"n": [1, 2], "k": 3})
    def add(n: int, k: int) -> Workload:
        """Adds numbers."""
        return Workload(lambda: n + k)

    spec = BENCHMARKS.get("t_add")
    assert spec.params == {"n": (1, 2), "k": (3,)}
    assert spec.description == "Adds numbers."
    assert spec.setup(n=2, k=3).call() == 5
    assert add(1, 1).call() == 2  # the factory keeps working as a function


def test_setup_rejects_params_the_factory_does_not_take(clean_registry: None) -> None:
    @calibrax.benchmark("t_strict")
    def strict(n: int) -> Workload:
        return Workload(lambda: n)

    with pytest.raises(BenchmarkError, match=r"cannot be called with params \{'m': 1\}.*takes: n"):
        BENCHMARKS.get("t_strict").setup(m=1)


def test_zero_argument_callable_is_a_workload() -> None:
    w = as_workload(lambda: 42)
    assert w.call() == 42 and not w.is_jitted


@pytest.mark.parametrize("bad", [3, "text", None])
def test_factory_returning_something_else_is_an_error(bad: object) -> None:
    with pytest.raises(BenchmarkError, match="must return calibrax.Workload"):
        as_workload(bad, benchmark="b")


def test_workload_checks_its_fields() -> None:
    with pytest.raises(BenchmarkError, match="fn must be callable"):
        Workload(5)  # type: ignore[arg-type]
    with pytest.raises(BenchmarkError, match="items must be a positive int"):
        Workload(print, items=0)
    assert Workload(print, args=[1, 2]).args == (1, 2)  # type: ignore[arg-type]
