"""Save and restore the weights of an ``nnx.Module`` from a local file, checking every shape.

Two formats, chosen by the file suffix: ``.npz`` (NumPy) and ``.msgpack`` (``flax.serialization``).
Both hold one array per variable, keyed by its path in the module joined with ``/`` (for example
``layers/0/kernel``), plus a format version. Weights are only ever read from a local path;
nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jax.numpy as jnp
import numpy as np

from calibrax.metrics.errors import MetricWeightsError

if TYPE_CHECKING:
    from flax import nnx

__all__ = ["FORMAT_VERSION", "SUFFIXES", "load_weights", "save_weights"]

FORMAT_VERSION = 1
"""Version written into every weights file; files of this version or older load."""
SUFFIXES = (".npz", ".msgpack")
_VERSION_KEY = "__calibrax_weights_version__"
M = TypeVar("M", bound="nnx.Module")


def _variables(module: nnx.Module, variables: Any) -> dict[str, Any]:
    """The module's variables selected by the ``variables`` filter, by ``/``-joined path."""
    from flax import nnx

    if not isinstance(module, nnx.Module):
        raise MetricWeightsError(f"module must be a flax.nnx.Module; got {type(module).__name__}.")
    wanted = nnx.Not(nnx.RngState) if variables is None else nnx.All(variables, nnx.Not(nnx.RngState))
    flat = nnx.to_flat_state(nnx.state(module, wanted))
    return {"/".join(str(part) for part in path): var for path, var in flat}


def _suffix(path: Path) -> str:
    if path.suffix not in SUFFIXES:
        raise MetricWeightsError(
            f"Weights file {str(path)!r} has suffix {path.suffix!r}; use one of {list(SUFFIXES)} "
            "(the suffix picks the format)."
        )
    return path.suffix


def save_weights(module: nnx.Module, path: str | Path, *, variables: Any = None) -> Path:
    """Write the module's variables (all but RNG state, or those ``variables`` selects) to ``path``.

    Args:
        module: the module to save.
        path: a ``.npz`` or ``.msgpack`` file; parent folders are created.
        variables: an ``nnx`` filter (e.g. ``nnx.Param``) restricting what is saved; ``None``
            saves every variable except RNG state (parameters and batch statistics).

    Returns:
        The path written.

    Raises:
        MetricWeightsError: ``module`` is not an ``nnx.Module`` or the suffix is not supported.

    Example:
        >>> import tempfile, pathlib
        >>> from flax import nnx
        >>> layer = nnx.Linear(2, 3, rngs=nnx.Rngs(0))
        >>> out = save_weights(layer, pathlib.Path(tempfile.mkdtemp()) / "layer.npz")
        >>> load_weights(nnx.Linear(2, 3, rngs=nnx.Rngs(1)), out).kernel.shape
        (2, 3)
    """
    path = Path(path)
    suffix = _suffix(path)
    arrays = {key: np.asarray(var.get_value()) for key, var in _variables(module, variables).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        with path.open("wb") as fh:
            payload: dict[str, Any] = {_VERSION_KEY: np.asarray(FORMAT_VERSION), **arrays}
            np.savez(fh, **payload)
    else:
        from flax import serialization

        path.write_bytes(serialization.msgpack_serialize({_VERSION_KEY: FORMAT_VERSION, "params": arrays}))
    return path


def _read(path: Path) -> dict[str, np.ndarray]:
    suffix = _suffix(path)
    if not path.is_file():
        raise MetricWeightsError(
            f"No weights file at {str(path)!r}. calibrax never downloads weights: save them first "
            "(calibrax.metrics.save_weights) or convert a checkpoint to .npz or .msgpack."
        )
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                stored: dict[str, Any] = {key: data[key] for key in data.files}
            version = stored.pop(_VERSION_KEY, FORMAT_VERSION)
        else:
            from flax import serialization

            raw = serialization.msgpack_restore(path.read_bytes())
            if not isinstance(raw, Mapping) or not isinstance(raw.get("params"), Mapping):
                raise ValueError("expected a mapping with a 'params' mapping")
            stored, version = dict(raw["params"]), raw.get(_VERSION_KEY, FORMAT_VERSION)
    except (OSError, ValueError, TypeError) as exc:
        raise MetricWeightsError(f"Weights file {str(path)!r} cannot be read as {suffix}: {exc}") from None
    if int(np.asarray(version)) > FORMAT_VERSION:
        raise MetricWeightsError(
            f"Weights file {str(path)!r} has format version {int(np.asarray(version))}; this calibrax reads "
            f"versions up to {FORMAT_VERSION}. Upgrade calibrax."
        )
    return {key: np.asarray(value) for key, value in stored.items()}


def _check(path: Path, expected: Mapping[str, Any], stored: Mapping[str, np.ndarray]) -> None:
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if missing or extra:
        raise MetricWeightsError(
            f"Weights file {str(path)!r} does not match the module: missing parameters {missing}, "
            f"unexpected parameters {extra}. Build the module with the architecture the file was saved from."
        )
    for key, var in expected.items():
        want, found = np.asarray(var.get_value()), stored[key]
        if want.shape != found.shape:
            raise MetricWeightsError(
                f"Parameter {key!r} in {str(path)!r}: expected shape {want.shape}, found {found.shape}."
            )
        if want.dtype != found.dtype:
            raise MetricWeightsError(
                f"Parameter {key!r} in {str(path)!r}: expected dtype {want.dtype}, found {found.dtype}."
            )


def load_weights(module: M, path: str | Path, *, variables: Any = None) -> M:
    """Restore the module's variables in place from a local ``.npz`` or ``.msgpack`` file.

    Every variable is checked before any is written: a missing or unexpected parameter, or one of
    another shape or dtype, raises and leaves the module unchanged.

    Args:
        module: a module of the architecture the file was saved from.
        path: the file written by :func:`save_weights` (or any ``.npz`` keyed by ``/``-joined
            variable paths).
        variables: the same filter that was given to :func:`save_weights`.

    Returns:
        ``module``, updated.

    Raises:
        MetricWeightsError: no such file, an unsupported suffix, an unreadable file, a newer
            format version, or a parameter that is missing, unexpected, or of the wrong shape or
            dtype (the message names the parameter path, the expected and the found value).

    Example:
        >>> import tempfile, pathlib
        >>> from flax import nnx
        >>> out = save_weights(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), pathlib.Path(tempfile.mkdtemp()) / "w.npz")
        >>> load_weights(nnx.Linear(2, 4, rngs=nnx.Rngs(0)), out)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        calibrax.metrics.errors.MetricWeightsError: Parameter 'bias' in ...: expected shape (4,), found (3,).
    """
    path = Path(path)
    expected = _variables(module, variables)
    stored = _read(path)
    _check(path, expected, stored)
    for key, var in expected.items():
        var.set_value(jnp.asarray(stored[key]))
    return module
