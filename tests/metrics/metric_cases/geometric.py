"""Reference rows of the geometric metrics."""

from __future__ import annotations

import numpy as np
import scipy.spatial.distance as ssd
from scipy.spatial.distance import directed_hausdorff as _dh
from scipy.spatial.transform import Rotation

from metric_cases._base import XY, Inputs, case


def _points(rng: np.random.Generator) -> Inputs:
    return (rng.normal(size=(20, 3)), rng.normal(size=(15, 3)) + 0.3), {}


def _corresponding(rng: np.random.Generator) -> Inputs:
    x = rng.normal(size=(12, 3))
    y = Rotation.random(random_state=int(rng.integers(1 << 30))).apply(x) + 1.0 + 0.1 * rng.normal(size=(12, 3))
    return (x, y), {"align": True}


def _rmsd_ref(x: np.ndarray, y: np.ndarray, align: bool) -> float:
    xc, yc = x - x.mean(0), y - y.mean(0)
    _, rssd = Rotation.align_vectors(yc, xc)
    return float(rssd / np.sqrt(len(x)))


case("chamfer", XY, _points, lambda x, y: ssd.cdist(x, y, "sqeuclidean").min(1).mean() + ssd.cdist(x, y, "sqeuclidean").min(0).mean())
case("directed_hausdorff", XY, _points, lambda x, y: _dh(x, y)[0])
case("hausdorff", XY, _points, lambda x, y: max(_dh(x, y)[0], _dh(y, x)[0]))
case("rmsd", XY, _corresponding, _rmsd_ref)
