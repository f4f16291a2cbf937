"""calibrax: a declarative benchmarking runner for JAX and Flax NNX code.

Example:
    >>> import calibrax
    >>> callable(calibrax.benchmark)
    True
"""

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
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
]
