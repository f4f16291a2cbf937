"""The adapters that turn user code into a :class:`Workload`.

A benchmark factory returns a Workload (or a zero-argument callable, which :func:`as_workload`
wraps); the ``from_*`` adapters build one from a plain callable, a function to ``jax.jit``, a
Flax NNX module's forward pass or one optimiser step. :class:`Workload` and :data:`Flow` are
defined in :mod:`calibrax.core.workload` and import from here too. JAX is imported only inside
the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calibrax.core.errors import BenchmarkError
from calibrax.core.workload import Flow, Workload

__all__ = [
    "Flow",
    "Workload",
    "as_workload",
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
]


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


def from_callable(fn: Callable[..., Any], *args: Any, items: int | None = None, outputs: Any = None,
                  series: Any = None, **kwargs: Any) -> Workload:
    """Wrap a plain Python callable; it is timed as called, with no compile stages.

    ``items``, ``outputs`` and ``series`` are the :class:`Workload` fields of the same names;
    every other keyword argument is passed to ``fn``.

    Example:
        >>> from_callable(pow, 2, 10).call()
        1024
    """
    return Workload(fn, args=args, kwargs=kwargs, items=items, outputs=outputs, series=series)


def from_jitted(
    fn: Callable[..., Any],
    *args: Any,
    items: int | None = None,
    static_argnums: int | tuple[int, ...] | None = None,
    outputs: Any = None,
    series: Any = None,
    **kwargs: Any,
) -> Workload:
    """Wrap a function in ``jax.jit`` (unless it already is) so its stages are timed apart.

    ``items``, ``outputs`` and ``series`` are the :class:`Workload` fields of the same names;
    every other keyword argument is passed to ``fn``.

    Example:
        >>> import jax.numpy as jnp
        >>> w = from_jitted(lambda x: x * 2, jnp.ones(3))
        >>> w.is_jitted
        True
    """
    import jax

    if not callable(getattr(fn, "trace", None)):
        fn = jax.jit(fn, static_argnums=static_argnums)
    return Workload(fn, args=args, kwargs=kwargs, items=items, outputs=outputs, series=series)


def from_nnx_module(module: Any, *inputs: Any, items: int | None = None, outputs: Any = None,
                    series: Any = None) -> Workload:
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

    return Workload(forward, args=(state, *inputs), items=items, outputs=outputs, series=series)


def from_train_step(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    items: int | None = None,
    outputs: Any = None,
    series: Any = None,
) -> Workload:
    """Time one optimiser step of a Flax NNX model in the functional form.

    ``batch`` is what the loss reads: a tuple is unpacked (``loss_fn(model, *batch)``, e.g.
    ``(x, y)``), and any other pytree, such as the usual Flax dict ``{"image": x, "label":
    y}``, is passed whole (``loss_fn(model, batch)``). ``loss_fn`` returns a scalar loss. The
    model and its ``nnx.Optimizer`` are
    split once; the timed function is a ``jax.jit`` of a pure step from State to
    ``(loss, new_state)``, and timing blocks on both. The step donates its state
    (``donate_argnums=0``) and the workload carries it (``carry=(1,)``: ``new_state`` is the
    next call's state), as a training loop does: every timed call is one more optimiser step,
    and :attr:`Workload.current_args` ``[0]`` is the latest state. The state is copied once
    here, so donating it leaves ``model`` and ``optimizer`` untouched.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> from flax import nnx
        >>> model = nnx.Linear(2, 1, rngs=nnx.Rngs(0))
        >>> opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
        >>> loss = lambda m, x, y: ((m(x) - y) ** 2).mean()
        >>> w = from_train_step(model, opt, loss, (jnp.ones((4, 2)), jnp.zeros((4, 1))))
        >>> first, second = float(w.call()[0]), float(w.call()[0])
        >>> second < first
        True
    """
    import jax
    import jax.numpy as jnp
    from flax import nnx

    _require_nnx_module(model, "from_train_step")
    leaves = jax.tree.leaves(batch)
    if not leaves or not all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves):
        kinds = sorted({type(leaf).__name__ for leaf in leaves}) or ["nothing"]
        raise BenchmarkError(
            f"from_train_step: batch must hold arrays (a tuple for loss_fn(model, *batch), or a dict "
            f"or other pytree for loss_fn(model, batch)), got {type(batch).__name__} holding "
            f"{', '.join(kinds)}. Convert its values with jnp.asarray."
        )
    unpack = isinstance(batch, tuple)
    graphdef, state = nnx.split((model, optimizer))
    state = jax.tree.map(jnp.copy, state)  # donated below: the model keeps its own buffers

    def step(state: Any, batch: Any) -> tuple[Any, Any]:
        m, opt = nnx.merge(graphdef, state)
        inputs = batch if unpack else (batch,)
        loss, grads = nnx.value_and_grad(loss_fn)(m, *inputs)
        opt.update(m, grads)
        return loss, nnx.state((m, opt))

    return Workload(jax.jit(step, donate_argnums=0), args=(state, batch), items=items, carry=(1,),
                    outputs=outputs, series=series)


def _require_nnx_module(obj: Any, where: str) -> None:
    from flax import nnx

    if not isinstance(obj, nnx.Module):
        raise BenchmarkError(f"{where}: expected a flax.nnx.Module, got {type(obj).__name__}.")
