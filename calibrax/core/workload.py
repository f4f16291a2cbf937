"""The Workload: what the timing loop calls.

A :class:`Workload` is a function with its arguments, and how those arguments flow from one call
to the next (reused, carried from the outputs, or built fresh by a setup function; the checks
and moves of each flow are in ``_flow``). JAX is imported only inside the functions that need
it, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from calibrax.core._flow import (
    WHOLE,
    CarrySpec,
    block,
    carry_pairs,
    check_carried,
    check_setup,
    placed,
    split_setup,
)
from calibrax.core.errors import BenchmarkError

__all__ = ["Flow", "Workload"]

Flow = Literal["reuse", "carry", "setup"]
"""How arguments flow between calls: the same ones, the outputs fed back, or fresh ones."""

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
        check_setup(self.setup, self.carry, self.args)
        object.__setattr__(self, "_pairs", carry_pairs(self.carry, len(self.args)))
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
        args, kwargs = split_setup(self.setup(), self._live.kwargs)
        if self.is_jitted:
            args, kwargs, _ = placed(args, kwargs, self._static())
        block((args, kwargs))
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
            check_carried(self, args, outputs)
            live.checked = True
        if self._pairs[0][0] == WHOLE:
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
            live.args, live.kwargs, moved = placed(live.args, live.kwargs, self._static())
        block((live.args, live.kwargs))
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
