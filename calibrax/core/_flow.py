"""How a :class:`~calibrax.core.workload.Workload`'s arguments flow between calls: checking and
normalising ``carry`` and ``setup``, checking the first carried outputs against the arguments
they replace, reading what ``setup()`` built, and placing arguments on the device.

JAX is imported only inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from calibrax.core.errors import BenchmarkError

if TYPE_CHECKING:
    from calibrax.core.workload import Workload

__all__ = ["WHOLE", "CarrySpec", "block", "carry_pairs", "check_carried", "check_setup", "placed", "split_setup"]

CarrySpec = bool | int | Sequence[int] | Mapping[int, int]
WHOLE = -1  # "output index" meaning the whole output (carry=True with one argument)


def check_setup(setup: Any, carry: Any, args: tuple[Any, ...]) -> None:
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


def carry_pairs(carry: Any, n_args: int) -> tuple[tuple[int, int], ...]:
    """Normalise ``carry`` to (output index, argument index) pairs; -1 means the whole output."""
    if carry is False or carry is None:
        return ()
    if n_args == 0:
        raise BenchmarkError(
            f"Workload(carry={carry!r}) feeds outputs into positional arguments, but args is empty: pass the "
            "initial state, e.g. Workload(step, args=(state,), carry=True)."
        )
    if carry is True:
        return ((WHOLE, 0),) if n_args == 1 else tuple((i, i) for i in range(n_args))
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


def check_carried(workload: Workload, args: tuple[Any, ...], outputs: Any) -> None:
    """The first carried outputs must fit the arguments they replace, or the next call recompiles."""
    pairs = workload.carried
    if pairs[0][0] != WHOLE:
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
        new = outputs if out_index == WHOLE else outputs[out_index]
        problem = _mismatch(args[arg_index], new)
        if problem:
            source = "the output" if out_index == WHOLE else f"output {out_index}"
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


def split_setup(result: Any, base: Mapping[str, Any]) -> tuple[tuple[Any, ...], Mapping[str, Any]]:
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


def placed(args: tuple[Any, ...], kwargs: Mapping[str, Any],
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


def block(tree: Any) -> None:
    """Wait for every JAX array in ``tree`` (nothing to do when JAX was never imported)."""
    import sys

    jax = sys.modules.get("jax")
    if jax is not None:
        jax.block_until_ready(tree)
