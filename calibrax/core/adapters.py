"""Workloads and the adapters that turn user code into one.

A :class:`Workload` is what the timing loop calls: a function with its arguments, and how
those arguments flow from one call to the next (reused, carried from the outputs, or built
fresh by a setup function). JAX is imported only inside the functions that need it, so
importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from calibrax.core.errors import BenchmarkError

__all__ = [
    "Flow",
    "Workload",
    "as_workload",
    "from_callable",
    "from_jitted",
    "from_nnx_module",
    "from_train_step",
]

Flow = Literal["reuse", "carry", "setup"]
"""How arguments flow between calls: the same ones, the outputs fed back, or fresh ones."""

CarrySpec = bool | int | Sequence[int] | Mapping[int, int]
_WHOLE = -1  # "output index" meaning the whole output (carry=True with one argument)


class _Live:
    """The mutable part of a Workload: the arguments its next call gets."""

    __slots__ = ("args", "checked", "kwargs", "static")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs
        self.checked = False  # the first carried outputs were checked against the arguments
        self.static: frozenset[int | str] | None = None  # jit's static positions/names, once known


@dataclass(frozen=True)
class Workload:
    """A function, the arguments it is timed with, and how they flow between calls.

    Arguments flow in one of three ways (see README "How a case is timed"):

    - **reuse** (default): every call gets ``args`` and ``kwargs`` unchanged.
    - **carry**: each call's outputs feed the next call's positional arguments, the form of a
      training step (``state = f(state)``), and the only one that works when ``fn`` donates
      its inputs (``jax.jit(..., donate_argnums=...)``). ``carry=True``: with one positional
      argument the whole output becomes it; with several the output must be a tuple or list
      of as many values, which replace them in order. ``carry=(1,)``, ``carry=(0, 2)`` or
      ``carry=1``: the tuple's j-th entry names the output that becomes positional argument
      j (``fn`` returns a tuple or list); arguments past the tuple's length and all keyword
      arguments stay as given. ``carry={1: 2}``: output 1 becomes argument 2 (any pairing).
      A carried output must have the structure, shapes and dtypes of the argument it
      replaces (checked on the first call). :attr:`current_args` holds the latest state.
    - **setup**: ``setup()`` builds fresh arguments before every call, outside the timed
      span, as pytest-benchmark's ``pedantic(setup=...)`` does. It returns an args tuple or
      an ``(args, kwargs)`` pair (a 2-tuple of a tuple and a mapping); its kwargs are laid
      over ``kwargs``. ``args`` must then be empty. The stages are traced with one setup
      result, which the first call then uses.

    Attributes:
        fn: the function called once per timed call; a ``jax.jit`` function gets its trace,
            lower and compile stages timed apart.
        args: positional arguments of the first call (every call when reused).
        kwargs: keyword arguments, passed unchanged on every call.
        items: items processed per call (batch size, tokens); gives a ``throughput`` measure.
        items_unit: what an item is (``tokens``, ``images``); ``throughput`` is then in
            ``tokens/s`` and reports show that unit.
        outputs: values for quality metrics (for example ``{"predictions": ..., "targets":
            ...}``), kept with the workload for the metrics that a benchmark declares.
        series: per-step values recorded while the workload was built, such as a training
            loss: a mapping of series name to a 1-D sequence (a list, a NumPy or JAX array),
            or a zero-argument callable returning one. Stored with the case under
            ``series`` and read by the convergence checks of the benchmark's
            ``validation:`` block.
        carry: which outputs become the next call's positional arguments (see above);
            ``False`` for none.
        setup: a zero-argument callable building each call's arguments (see above).

    Example:
        >>> w = Workload(sum, args=([1, 2, 3],))
        >>> w.call()
        6
        >>> counter = Workload(lambda n: n + 1, args=(0,), carry=True)
        >>> [counter.call() for _ in range(3)], counter.current_args
        ([1, 2, 3], (3,))
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    items: int | None = None
    outputs: Any = None
    series: Any = None
    carry: CarrySpec = False
    items_unit: str = "items"
    setup: Callable[[], Any] | None = None
    _pairs: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False, default=())
    _live: _Live = field(init=False, repr=False, compare=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise BenchmarkError(
                f"Workload.fn must be callable, got {type(self.fn).__name__}: {self.fn!r}."
            )
        if self.items is not None and (not isinstance(self.items, int) or self.items <= 0):
            raise BenchmarkError(
                f"Workload.items must be a positive int (items per call), got {self.items!r}."
            )
        if not isinstance(self.items_unit, str) or not self.items_unit.strip() or "/" in self.items_unit:
            raise BenchmarkError(
                f"Workload.items_unit must name what an item is, such as 'tokens' or 'images', got {self.items_unit!r}."
            )
        if self.series is not None and not (isinstance(self.series, Mapping) or callable(self.series)):
            raise BenchmarkError(
                "Workload.series must be a mapping of series name to per-step values (e.g. "
                f"{{'loss': losses}}) or a zero-argument callable returning one, got {type(self.series).__name__}."
            )
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        _check_setup(self.setup, self.carry, self.args)
        object.__setattr__(self, "_pairs", _carry_pairs(self.carry, len(self.args)))
        object.__setattr__(self, "_live", _Live(self.args, dict(self.kwargs)))

    @property
    def flow(self) -> Flow:
        """``reuse``, ``carry`` or ``setup``: how arguments flow between calls."""
        if self.setup is not None:
            return "setup"
        return "carry" if self._pairs else "reuse"

    @property
    def carried(self) -> tuple[tuple[int, int], ...]:
        """``(output index, argument index)`` pairs of a carrying workload (output -1: all of it).

        Example:
            >>> Workload(divmod, args=(7, 2), carry=(1,)).carried
            ((1, 0),)
        """
        return self._pairs

    @property
    def current_args(self) -> tuple[Any, ...]:
        """The positional arguments the next call gets (a carrying workload's latest state)."""
        return self._live.args

    def call(self) -> Any:
        """Call ``fn`` once in the workload's flow and return its outputs.

        Reused arguments are passed as they are; ``setup`` builds fresh ones first; a
        carrying workload feeds the outputs into :attr:`current_args`.
        """
        args, kwargs = self.arguments()
        out = self.fn(*args, **kwargs)
        if self._pairs:
            self.advance(args, out)
        return out

    def arguments(self) -> tuple[tuple[Any, ...], Mapping[str, Any]]:
        """``(args, kwargs)`` for the next call; with ``setup`` built now, placed and ready."""
        if self.setup is None:
            return self._live.args, self._live.kwargs
        args, kwargs = _split_setup(self.setup(), self._live.kwargs)
        if self.is_jitted:
            args, kwargs, _ = _placed(args, kwargs, self._static())
        _block((args, kwargs))
        return args, kwargs

    def advance(self, args: tuple[Any, ...], outputs: Any) -> tuple[Any, ...]:
        """Feed ``outputs`` of a call made with ``args`` into the next call's arguments.

        Returns the new positional arguments and keeps them as :attr:`current_args`; a
        workload that does not carry returns ``args`` unchanged.

        Raises:
            BenchmarkError: on the first call, the outputs cannot feed the arguments (not a
                tuple, too short, another structure, shape or dtype).
        """
        if not self._pairs:
            return args
        live = self._live
        if not live.checked:
            _check_carried(self, args, outputs)
            live.checked = True
        if self._pairs[0][0] == _WHOLE:
            live.args = (outputs, *args[1:])
            return live.args
        new = list(args)
        for out_index, arg_index in self._pairs:
            new[arg_index] = outputs[out_index]
        live.args = tuple(new)
        return live.args

    def prepare_inputs(self) -> list[str]:
        """Put host arrays and Python scalars among the arguments on the device, once.

        Only for jitted workloads (a plain callable gets its arguments as given); static
        arguments stay Python values. Then waits until every argument is ready. Returns the
        arguments that were moved (``args[0]``, ``kwargs['scale']``).

        Example:
            >>> import jax, numpy as np
            >>> w = Workload(jax.jit(lambda x, s: x * s), args=(np.ones(2), 3.0))
            >>> w.prepare_inputs()
            ['args[0]', 'args[1]']
        """
        live = self._live
        moved: list[str] = []
        if self.is_jitted and self.setup is None:
            live.args, live.kwargs, moved = _placed(live.args, live.kwargs, self._static())
        _block((live.args, live.kwargs))
        return moved

    @property
    def is_jitted(self) -> bool:
        """True when ``fn`` supports JAX's ahead-of-time stages (``fn.trace``)."""
        return callable(getattr(self.fn, "trace", None))

    def static_positions(self) -> frozenset[int | str]:
        """Positions and names of ``fn``'s static arguments (empty when not a ``jax.jit``)."""
        return self._static()

    def _static(self) -> frozenset[int | str]:
        live = self._live
        if live.static is None:
            info = getattr(self.fn, "_jit_info", None)  # jax.jit's own record of its options
            nums = tuple(getattr(info, "static_argnums", ()) or ())
            names = tuple(getattr(info, "static_argnames", ()) or ())
            live.static = frozenset((*nums, *names))
        return live.static


def _check_setup(setup: Any, carry: Any, args: tuple[Any, ...]) -> None:
    if setup is None:
        return
    if not callable(setup):
        raise BenchmarkError(
            f"Workload.setup must be a zero-argument callable returning the arguments of one call, "
            f"got {type(setup).__name__}: {setup!r}."
        )
    if carry is not False and carry is not None:
        raise BenchmarkError(
            f"Workload takes carry= or setup=, not both (got carry={carry!r} and a setup): setup builds "
            "every call's arguments afresh, so there is nothing to carry into. Keep one."
        )
    if args:
        raise BenchmarkError(
            f"Workload(setup=...) builds the arguments of every call, so args must be empty; got {len(args)} "
            "positional argument(s). Return them from setup instead: setup=lambda: ((x, y), {})."
        )


def _carry_pairs(carry: Any, n_args: int) -> tuple[tuple[int, int], ...]:
    """Normalise ``carry`` to (output index, argument index) pairs; -1 means the whole output."""
    if carry is False or carry is None:
        return ()
    if n_args == 0:
        raise BenchmarkError(
            f"Workload(carry={carry!r}) feeds outputs into positional arguments, but args is empty: pass the "
            "initial state, e.g. Workload(step, args=(state,), carry=True)."
        )
    if carry is True:
        return ((_WHOLE, 0),) if n_args == 1 else tuple((i, i) for i in range(n_args))
    if isinstance(carry, int):
        carry = (carry,)
    if isinstance(carry, Mapping):
        pairs = tuple(carry.items())
    elif isinstance(carry, Sequence) and not isinstance(carry, str):
        pairs = tuple((out, arg) for arg, out in enumerate(carry))
    else:
        raise BenchmarkError(_carry_usage(carry, "is not one of these forms"))
    for out, arg in pairs:
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (out, arg)):
            raise BenchmarkError(_carry_usage(carry, "holds an index that is not an integer >= 0"))
        if arg >= n_args:
            raise BenchmarkError(_carry_usage(carry, f"feeds argument {arg}, but there are only {n_args}"))
    for what, values in (("output", [o for o, _ in pairs]), ("argument", [a for _, a in pairs])):
        if len(set(values)) != len(values):
            raise BenchmarkError(_carry_usage(carry, f"names an {what} twice"))
    if not pairs:
        raise BenchmarkError(_carry_usage(carry, "names no output; use carry=False to reuse the arguments"))
    return pairs


def _carry_usage(carry: Any, problem: str) -> str:
    return (
        f"Workload carry={carry!r} {problem}. carry takes True (the output replaces the arguments), an "
        "output index or a tuple of them (entry j names the output that becomes positional argument j, "
        "e.g. carry=(1,) for a step returning (loss, new_state)), or a mapping {output: argument}."
    )


def _check_carried(workload: Workload, args: tuple[Any, ...], outputs: Any) -> None:
    """The first carried outputs must fit the arguments they replace, or the next call recompiles."""
    pairs = workload.carried
    if pairs[0][0] != _WHOLE:
        if not isinstance(outputs, (tuple, list)):
            raise BenchmarkError(
                f"Workload carry={workload.carry!r} takes outputs by index, but fn returned "
                f"{type(outputs).__name__}, not a tuple or list. Return a tuple (e.g. (loss, new_state)), "
                "or use carry=True when the whole output is the next argument."
            )
        need = len(args) if workload.carry is True else max(o for o, _ in pairs) + 1
        if len(outputs) < need or (workload.carry is True and len(outputs) != need):
            raise BenchmarkError(
                f"Workload carry={workload.carry!r} needs {need} outputs, but fn returned {len(outputs)}."
            )
    for out_index, arg_index in pairs:
        new = outputs if out_index == _WHOLE else outputs[out_index]
        problem = _mismatch(args[arg_index], new)
        if problem:
            source = "the output" if out_index == _WHOLE else f"output {out_index}"
            raise BenchmarkError(
                f"Workload carry: {source} does not fit argument {arg_index}, which it replaces: {problem}. "
                "A jitted fn would be traced and compiled again on the next call; return the new state "
                "with the structure, shapes and dtypes of the argument."
            )


def _mismatch(old: Any, new: Any) -> str | None:
    """Why ``new`` cannot stand in for ``old`` (structure, shape or dtype), or None."""
    import sys

    jax = sys.modules.get("jax")
    if jax is None:
        return None
    if jax.tree.structure(old) != jax.tree.structure(new):
        return f"its structure is {jax.tree.structure(new)}, the argument's {jax.tree.structure(old)}"
    for i, (a, b) in enumerate(zip(jax.tree.leaves(old), jax.tree.leaves(new), strict=True)):
        sa, sb = getattr(a, "shape", None), getattr(b, "shape", None)
        da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
        if sa is not None and sb is not None and (sa, da) != (sb, db):
            return f"leaf {i} is {db}{list(sb)}, the argument's {da}{list(sa)}"
    return None


def _split_setup(result: Any, base: Mapping[str, Any]) -> tuple[tuple[Any, ...], Mapping[str, Any]]:
    """``setup()``'s result as (args, kwargs): an (args, kwargs) pair, else an args tuple."""
    if (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], (tuple, list))
            and isinstance(result[1], Mapping)):
        return tuple(result[0]), {**base, **result[1]}
    if isinstance(result, tuple):
        return result, base
    raise BenchmarkError(
        f"Workload.setup must return an args tuple or an (args, kwargs) pair, got {type(result).__name__}. "
        "For a single argument return (x,)."
    )


def _placed(args: tuple[Any, ...], kwargs: Mapping[str, Any],
            static: frozenset[int | str]) -> tuple[tuple[Any, ...], dict[str, Any], list[str]]:
    """Arguments with NumPy arrays and Python scalars put on the default device (static ones kept)."""
    import jax
    import numpy as np

    def host(leaf: Any) -> bool:
        return isinstance(leaf, (np.ndarray, np.generic)) or type(leaf) in (bool, int, float, complex)

    moved: list[str] = []

    def place(value: Any, where: str) -> Any:
        if not any(host(leaf) for leaf in jax.tree.leaves(value)):
            return value
        moved.append(where)
        return jax.tree.map(lambda leaf: jax.device_put(leaf) if host(leaf) else leaf, value)

    new_args = tuple(a if i in static else place(a, f"args[{i}]") for i, a in enumerate(args))
    new_kwargs = {k: v if k in static else place(v, f"kwargs[{k!r}]") for k, v in kwargs.items()}
    return new_args, new_kwargs, moved


def _block(tree: Any) -> None:
    """Wait for every JAX array in ``tree`` (nothing to do when JAX was never imported)."""
    import sys

    jax = sys.modules.get("jax")
    if jax is not None:
        jax.block_until_ready(tree)


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
