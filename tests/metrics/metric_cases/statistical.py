"""Reference rows of the statistical metrics."""

from __future__ import annotations

import numpy as np
import scipy.stats as sst
import sklearn.metrics as skm

from metric_cases._base import PT, XY, Inputs, N, X, case, reg_pair


def _corr(rng: np.random.Generator) -> Inputs:
    x = rng.normal(size=N)
    return (x, 0.6 * x + rng.normal(size=N)), {}


def _ties(rng: np.random.Generator) -> Inputs:
    return (rng.integers(0, 6, N).astype(float), rng.integers(0, 6, N).astype(float)), {}


def _ccc(x: np.ndarray, y: np.ndarray) -> float:
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return float(2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))


def _one(rng: np.random.Generator) -> Inputs:
    return (rng.gamma(2.0, size=N),), {}


case("pearson", XY, _corr, lambda x, y: sst.pearsonr(x, y).statistic)
case("spearman", XY, _ties, lambda x, y: sst.spearmanr(x, y).statistic)
case("kendall_tau", XY, _ties, lambda x, y: sst.kendalltau(x, y).statistic)
case("concordance_correlation", XY, _corr, _ccc)
case("r2_adjusted", PT, lambda rng: (reg_pair(rng), {"n_features": 3}),
     lambda p, t, n_features: 1 - (1 - skm.r2_score(t, p)) * (len(t) - 1) / (len(t) - n_features - 1))
case("skewness", X, _one, sst.skew)
case("kurtosis", X, _one, sst.kurtosis)
case("variation", X, _one, sst.variation)
