"""Scaling fits recover known laws; complexity classes; errors for data that cannot be fitted."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from calibrax.analysis import (
    AnalysisError,
    classify_complexity,
    fit_chinchilla,
    fit_power_law,
    fit_saturating,
    r_squared,
    relative_rms,
)
from calibrax.analysis.scaling import _linregress

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "a": 0.34, "b": 0.28}  # Hoffmann et al. 2022


def test_r_squared_and_relative_rms_by_hand() -> None:
    # y mean 2, SS_tot = 2, SS_res = 1
    assert r_squared([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) == pytest.approx(0.5)
    assert math.isnan(r_squared([2.0, 2.0], [2.0, 2.0]))
    assert relative_rms([2.0, 4.0], [2.2, 3.6]) == pytest.approx(0.1)
    assert relative_rms([1.0, 1.0], [1.0, 1.0]) == 0.0


def test_power_law_is_exact_on_noise_free_data() -> None:
    x = np.array([16, 32, 64, 128, 256.0])
    fit = fit_power_law(x, 2.5e-6 * x**1.5)
    assert fit["a"].value == pytest.approx(2.5e-6, rel=1e-9)
    assert fit["b"].value == pytest.approx(1.5, rel=1e-9)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.relative_rms < 1e-9
    assert fit.predict([512.0])[0] == pytest.approx(2.5e-6 * 512**1.5)
    assert fit.model == "power_law" and fit.n == 5 and fit.loss == "linear"


def test_power_law_matches_the_textbook_formulas() -> None:
    rng = np.random.default_rng(3)
    x = np.geomspace(1, 1000, 12)
    y = 0.3 * x**0.7 * rng.lognormal(0, 0.1, x.size)
    fit = fit_power_law(x, y, level=0.9)
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    se_slope = math.sqrt(resid @ resid / (x.size - 2) / np.sum((lx - lx.mean()) ** 2))
    t = stats.t.ppf(0.95, x.size - 2)
    assert fit["b"].value == pytest.approx(slope)
    assert fit["a"].value == pytest.approx(math.exp(intercept))
    assert fit["b"].stderr == pytest.approx(se_slope)
    assert (fit["b"].ci_low, fit["b"].ci_high) == pytest.approx((slope - t * se_slope, slope + t * se_slope))
    assert fit["a"].ci_low < fit["a"].value < fit["a"].ci_high  # asymmetric: fitted as log a


def test_power_law_intervals_cover_the_true_exponent_about_95_percent() -> None:
    rng = np.random.default_rng(4)
    x = np.geomspace(10, 1e4, 10)
    hits = 0
    for _ in range(400):
        fit = fit_power_law(x, 5.0 * x**-0.5 * rng.lognormal(0, 0.05, x.size))
        hits += fit["b"].ci_low <= -0.5 <= fit["b"].ci_high
    assert 0.92 <= hits / 400 <= 0.98


def test_saturating_law_is_recovered() -> None:
    x = np.geomspace(1e3, 1e7, 9)
    exact = fit_saturating(x, 0.5 + 80.0 / x**0.45)
    for name, true in (("E", 0.5), ("A", 80.0), ("alpha", 0.45)):
        assert exact[name].value == pytest.approx(true, rel=1e-5)
    rng = np.random.default_rng(5)
    noisy = fit_saturating(x, (0.5 + 80.0 / x**0.45) * rng.lognormal(0, 0.005, x.size))
    for name, true in (("E", 0.5), ("A", 80.0), ("alpha", 0.45)):
        assert noisy[name].ci_low <= true <= noisy[name].ci_high
    assert noisy.r_squared > 0.99


def test_huber_loss_resists_an_outlier() -> None:
    x = np.geomspace(1, 1e4, 12)
    y = 1.0 + 5.0 / x**0.6
    y[3] *= 1.5
    plain = fit_saturating(x, y)
    robust = fit_saturating(x, y, loss="huber", f_scale=0.01)
    assert robust.loss == "huber"
    assert abs(robust["alpha"].value - 0.6) < abs(plain["alpha"].value - 0.6)
    assert robust["alpha"].value == pytest.approx(0.6, abs=0.02)


def test_chinchilla_parameters_are_recovered_from_noise_free_data() -> None:
    n, d = (g.ravel() for g in np.meshgrid(np.geomspace(7e7, 1.6e10, 6), np.geomspace(5e9, 5e11, 6)))
    y = CHINCHILLA["E"] + CHINCHILLA["A"] / n ** CHINCHILLA["a"] + CHINCHILLA["B"] / d ** CHINCHILLA["b"]
    for loss in ("linear", "huber"):
        fit = fit_chinchilla(n, d, y, loss=loss, f_scale=1e-3)
        for name, true in CHINCHILLA.items():
            assert fit[name].value == pytest.approx(true, rel=1e-3), (loss, name)
        assert fit.predict(n, d) == pytest.approx(y, rel=1e-8)
    assert fit.formula == "y = E + A / N^a + B / D^b"


def test_chinchilla_intervals_cover_the_truth_with_noise() -> None:
    rng = np.random.default_rng(6)
    n, d = (g.ravel() for g in np.meshgrid(np.geomspace(7e7, 1.6e10, 7), np.geomspace(5e9, 5e11, 7)))
    y = (CHINCHILLA["E"] + CHINCHILLA["A"] / n ** CHINCHILLA["a"] + CHINCHILLA["B"] / d ** CHINCHILLA["b"])
    fit = fit_chinchilla(n, d, y * rng.lognormal(0, 0.002, y.size))
    for name in ("a", "b", "E"):
        assert fit[name].ci_low <= CHINCHILLA[name] <= fit[name].ci_high, name


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fit_power_law([1, 2], [1, 2]), "at least 3 points"),
        (lambda: fit_power_law([1, 2, 0], [1, 2, 3]), "positive"),
        (lambda: fit_power_law([1, 2, 3], [1, -2, 3]), "positive"),
        (lambda: fit_power_law([1, 2, 3], [1, 2]), "same length"),
        (lambda: fit_power_law([2, 2, 2], [1, 2, 3]), "two distinct x values"),
        (lambda: fit_power_law([1, 2, float("nan")], [1, 2, 3]), "finite"),
        (lambda: fit_power_law([1, 2, 3], [1, 2, 3], level=1.5), "between 0 and 1"),
        (lambda: fit_power_law(["a", "b", "c"], [1, 2, 3]), "must be numbers"),
        (lambda: fit_saturating([1, 2, 3], [3, 2, 1]), "at least 4 points"),
        (lambda: fit_saturating([1, 2, 3, 4], [4, 3, 2, 1], loss="cauchyish"), "loss must be"),  # type: ignore[arg-type]
        (lambda: fit_saturating([1, 2, 3, 4], [4, 3, 2, 1], f_scale=0), "f_scale must be positive"),
        (lambda: fit_chinchilla([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), "at least 6 points"),
        (lambda: fit_chinchilla([1, 2, 3], [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]), "same length"),
        (lambda: fit_chinchilla([1] * 6, [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]), "two distinct N"),
    ],
)
def test_fits_refuse_data_they_cannot_fit(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalysisError, match=match):
        call()


def test_fit_accessors_name_what_exists() -> None:
    fit = fit_power_law([1, 2, 4], [1.0, 2.0, 4.0])
    with pytest.raises(KeyError, match=r"\['a', 'b'\]"):
        fit["alpha"]
    with pytest.raises(AnalysisError, match="takes 1 input"):
        fit.predict([1.0], [2.0])


SIZES = np.array([8, 16, 32, 64, 128, 256, 512, 1024, 4096], dtype=float)


@pytest.mark.parametrize(
    "name, g",
    [
        ("O(1)", lambda n: 0 * n),
        ("O(log n)", np.log),
        ("O(n)", lambda n: n),
        ("O(n log n)", lambda n: n * np.log(n)),
        ("O(n^2)", lambda n: n**2),
        ("O(n^3)", lambda n: n**3),
    ],
)
def test_each_complexity_class_is_recovered(name: str, g) -> None:  # type: ignore[no-untyped-def]
    t = 1e-4 + 3e-7 * g(SIZES)
    fit = classify_complexity(SIZES, t)
    assert fit.best.name == name
    assert fit.best.a == pytest.approx(1e-4, rel=1e-6)
    if name != "O(1)":
        assert fit.best.b == pytest.approx(3e-7, rel=1e-6)
        assert fit.runner_up.relative_rms > 10 * fit.best.relative_rms
    assert fit.warning is None and fit.n_sizes == 9
    assert [c.relative_rms for c in fit.candidates] == sorted(c.relative_rms for c in fit.candidates)


def test_complexity_with_noise_and_repeated_sizes() -> None:
    rng = np.random.default_rng(7)
    n = np.repeat(SIZES, 5)
    t = (2e-5 + 1e-8 * n * np.log(n)) * rng.lognormal(0, 0.03, n.size)
    fit = classify_complexity(n, t)
    assert fit.best.name == "O(n log n)"
    assert fit.runner_up.name in ("O(n)", "O(n^2)")
    assert fit.runner_up.relative_rms > fit.best.relative_rms


def test_complexity_coefficients_match_weighted_nnls() -> None:
    n = SIZES
    rng = np.random.default_rng(8)
    t = (1e-3 + 2e-6 * n) * rng.lognormal(0, 0.05, n.size)
    a_mat = np.column_stack([np.ones_like(n), n]) / t[:, None]
    (a, b), rnorm = optimize.nnls(a_mat, np.ones_like(n))
    cand = next(c for c in classify_complexity(n, t).candidates if c.name == "O(n)")
    assert (cand.a, cand.b) == pytest.approx((a, b), rel=1e-6)
    assert cand.relative_rms == pytest.approx(rnorm / math.sqrt(n.size))


def test_complexity_warns_about_thin_data_instead_of_failing() -> None:
    few = classify_complexity([10, 100, 1000], [1.0, 10.0, 100.0])
    assert few.best.name == "O(n)" and few.warning is not None and "only 3 distinct sizes" in few.warning
    narrow = classify_complexity([10, 12, 15, 20, 25, 30, 40], [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0])
    assert narrow.warning is not None and "0.60 decades" in narrow.warning and "sizes (use" not in narrow.warning
    assert narrow.decades == pytest.approx(math.log10(4))
    flat = classify_complexity(SIZES, np.full(SIZES.size, 0.5))
    assert flat.best.name == "O(1)" and flat.best.relative_rms == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "n, t, match",
    [
        ([10, 100, 100], [1.0, 2.0, 3.0], "3 or more distinct sizes, got 2"),
        ([0, 10, 100], [1.0, 2.0, 3.0], "at least 1"),
        ([1, 10, 100], [1.0, 0.0, 3.0], "positive"),
        ([1, 10, 100], [1.0, 3.0], "same length"),
    ],
)
def test_complexity_refuses_unusable_data(n: list[float], t: list[float], match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        classify_complexity(n, t)


@pytest.mark.parametrize("seed", range(6))
def test_the_power_law_fit_gets_the_numbers_of_scipy_linregress(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 14))
    x = np.log(np.sort(rng.uniform(1.0, 1e4, n)))
    y = 2.0 * x + rng.normal(0.0, 0.1, n) if seed else 2.0 * x  # an exact fit too
    ours, theirs = _linregress(x, y), stats.linregress(x, y)
    for field in ("slope", "intercept", "rvalue", "pvalue", "stderr", "intercept_stderr"):
        assert np.array_equal(getattr(ours, field), getattr(theirs, field), equal_nan=True), field
