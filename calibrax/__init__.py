"""calibrax: a declarative benchmarking runner for JAX and Flax NNX code.

Example:
    >>> import calibrax
    >>> callable(calibrax.benchmark)
    True
"""

from typing import Any

from calibrax.core import (
    CalibraxError,
    Workload,
    benchmark,
    from_callable,
    from_jitted,
    from_nnx_module,
    from_train_step,
)

__version__ = "0.1.0"

__all__ = [
    "CalibraxError",
    "Workload",
    "__version__",
    "benchmark",
    "compose",
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
    "run",
]


def __getattr__(name: str) -> Any:
    """``calibrax.run`` and ``calibrax.compose`` load the runner on first use, so ``import
    calibrax`` stays light for benchmark modules and worker processes."""
    if name in ("run", "compose"):
        from calibrax.runner import api

        return getattr(api, name)
    raise AttributeError(f"module 'calibrax' has no attribute {name!r}")
