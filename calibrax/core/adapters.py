"""Workloads and the adapters that turn user code into one.

A :class:`Workload` is what the timing loop calls: a function with its arguments. JAX is
imported only inside the adapters that need it, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calibrax.core.errors import BenchmarkError

__all__ = [
    "Workload",
    "as_workload",
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
]


@dataclass(frozen=True)
class Workload:
    """A function and the arguments it is timed with.

    Attributes:
        fn: the function called once per timed call; a ``jax.jit`` function gets its trace,
            lower and compile stages timed apart.
        args: positional arguments, passed unchanged on every call.
        kwargs: keyword arguments, passed unchanged on every call.
        items: items processed per call (batch size, tokens); gives a ``throughput`` measure.
        outputs: values for quality metrics (for example ``{"predictions": ..., "targets":
            ...}``), kept with the workload for the metrics that a benchmark declares.
        series: per-step values recorded while the workload was built, such as a training
            loss: a mapping of series name to a 1-D sequence (a list, a NumPy or JAX array),
            or a zero-argument callable returning one. Stored with the case under
            ``meta["series"]`` and read by the convergence checks of the benchmark's
            ``validation:`` block.

    Example:
        >>> w = Workload(sum, args=([1, 2, 3],))
        >>> w.call()
        6
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    items: int | None = None
    outputs: Any = None
    series: Any = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise BenchmarkError(
                f"Workload.fn must be callable, got {type(self.fn).__name__}: {self.fn!r}."
            )
        if self.items is not None and (not isinstance(self.items, int) or self.items <= 0):
            raise BenchmarkError(
                f"Workload.items must be a positive int (items per call), got {self.items!r}."
            )
        if self.series is not None and not (isinstance(self.series, Mapping) or callable(self.series)):
            raise BenchmarkError(
                "Workload.series must be a mapping of series name to per-step values (e.g. "
                f"{{'loss': losses}}) or a zero-argument callable returning one, got {type(self.series).__name__}."
            )
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))

    def call(self) -> Any:
        """Call ``fn`` once with the workload's arguments and return its outputs."""
        return self.fn(*self.args, **self.kwargs)

    @property
    def is_jitted(self) -> bool:
        """True when ``fn`` supports JAX's ahead-of-time stages (``fn.trace``)."""
        return callable(getattr(self.fn, "trace", None))


def as_workload(obj: Any, *, benchmark: str = "?") -> Workload:
    """Normalise what a benchmark factory returned into a Workload.

    Accepts a Workload, or a zero-argument callable (timed as is).

    Raises:
        BenchmarkError: ``obj`` is neither.
    """
    if isinstance(obj, Workload):
        return obj
    if callable(obj):
        return Workload(obj)
    raise BenchmarkError(
        f"Benchmark {benchmark!r} returned {type(obj).__name__}; a benchmark factory must return "
        "calibrax.Workload(fn, args=...) or a zero-argument callable."
    )


def from_callable(fn: Callable[..., Any], *args: Any, items: int | None = None, **kwargs: Any) -> Workload:
    """Wrap a plain Python callable; it is timed as called, with no compile stages.

    Example:
        >>> from_callable(pow, 2, 10).call()
        1024
    """
    return Workload(fn, args=args, kwargs=kwargs, items=items)


def from_jitted(
    fn: Callable[..., Any],
    *args: Any,
    items: int | None = None,
    static_argnums: int | tuple[int, ...] | None = None,
    **kwargs: Any,
) -> Workload:
    """Wrap a function in ``jax.jit`` (unless it already is) so its stages are timed apart.

    Example:
        >>> import jax.numpy as jnp
        >>> w = from_jitted(lambda x: x * 2, jnp.ones(3))
        >>> w.is_jitted
        True
    """
    import jax

    if not callable(getattr(fn, "trace", None)):
        fn = jax.jit(fn, static_argnums=static_argnums)
    return Workload(fn, args=args, kwargs=kwargs, items=items)


def from_nnx_module(module: Any, *inputs: Any, items: int | None = None) -> Workload:
    """Time a Flax NNX module's forward pass in the functional form.

    The module is split once into a graph definition and a State; the timed function is a
    ``jax.jit`` of ``merge(graphdef, state)(*inputs)``, so no Python object-graph walk is timed.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> w = from_nnx_module(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), jnp.ones((4, 2)))
        >>> w.call().shape
        (4, 3)
    """
    import jax
    from flax import nnx

    _require_nnx_module(module, "from_nnx_module")
    graphdef, state = nnx.split(module)

    @jax.jit
    def forward(state: Any, *xs: Any) -> Any:
        return nnx.merge(graphdef, state)(*xs)

    return Workload(forward, args=(state, *inputs), items=items)


def from_train_step(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[..., Any],
    batch: tuple[Any, ...],
    *,
    items: int | None = None,
) -> Workload:
    """Time one optimiser step of a Flax NNX model in the functional form.

    ``loss_fn(model, *batch)`` returns a scalar loss. The model and its ``nnx.Optimizer`` are
    split once; the timed function is a ``jax.jit`` of a pure step from State to
    ``(loss, new_state)``, and timing blocks on both.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from flax import nnx
        >>> model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
        >>> opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
        >>> loss = lambda m, x, y: ((m(x) - y) ** 2).mean()
        >>> w = from_train_step(model, opt, loss, (jnp.ones((4, 2)), jnp.zeros((4, 1))))
        >>> float(w.call()[0]) >= 0
        True
    """
    import jax
    from flax import nnx

    _require_nnx_module(model, "from_train_step")
    if not isinstance(batch, tuple):
        raise BenchmarkError(
            f"from_train_step: batch must be a tuple of arrays passed to loss_fn(model, *batch), "
            f"got {type(batch).__name__}."
        )
    graphdef, state = nnx.split((model, optimizer))

    @jax.jit
    def step(state: Any, batch: tuple[Any, ...]) -> tuple[Any, Any]:
        m, opt = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_fn)(m, *batch)
        opt.update(m, grads)
        return loss, nnx.state((m, opt))

    return Workload(step, args=(state, batch), items=items)


def _require_nnx_module(obj: Any, where: str) -> None:
    from flax import nnx

    if not isinstance(obj, nnx.Module):
        raise BenchmarkError(f"{where}: expected a flax.nnx.Module, got {type(obj).__name__}.")
