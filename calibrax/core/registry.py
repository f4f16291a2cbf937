"""One generic registry for every kind of named component.

Benchmarks, exporters and (in later layers) profilers and metrics are each kept in a
:class:`Registry`. Third-party packages add members through entry points: a package that
declares ``[project.entry-points."calibrax.benchmarks"] mine = "pkg.module"`` has
``pkg.module`` imported the first time an unknown name is looked up or the registry is listed.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Generic, TypeVar, overload

from calibrax.core.errors import CalibraxError, NotFoundError

__all__ = ["Registry", "close_matches", "unknown_name_message"]

T = TypeVar("T")
_log = logging.getLogger(__name__)


def close_matches(name: str, known: list[str], n: int = 3) -> list[str]:
    """Return up to ``n`` names from ``known`` that look like ``name``.

    Example:
        >>> close_matches("matmull", ["matmul", "mlp_forward"])
        ['matmul']
    """
    return difflib.get_close_matches(name, known, n=n, cutoff=0.6)


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """Build the message for an unknown name: what was asked, close matches, what exists.

    Example:
        >>> unknown_name_message("benchmark", "nope", ["matmul"])
        "Unknown benchmark 'nope'. Known benchmarks: matmul."
    """
    msg = f"Unknown {kind} {name!r}."
    matches = close_matches(name, known)
    if matches:
        msg += " Did you mean " + " or ".join(repr(m) for m in matches) + "?"
    listed = ", ".join(sorted(known)) if known else "(none registered)"
    return f"{msg} Known {kind}s: {listed}."


class Registry(Generic[T]):
    """Named components of one kind, with lazy entry-point plugins.

    Args:
        kind: what the members are, used in messages ("benchmark", "exporter").
        group: the entry-point group that plugins declare members in.

    Example:
        >>> exporters = Registry[str]("exporter", "calibrax.test_exporters")
        >>> exporters.register("html", "render-html")
        'render-html'
        >>> exporters.get("html")
        'render-html'
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._members: dict[str, T] = {}
        self._entry_points_loaded = False

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T, *, replace: bool = False) -> T: ...

    def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> T | Callable[[T], T]:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        Raises:
            CalibraxError: ``name`` is taken by another object and ``replace`` is false.
        """
        if obj is None:
            return lambda o: self.register(name, o, replace=replace)
        existing = self._members.get(name)
        if existing is not None and not replace and not _same_definition(existing, obj):
            raise CalibraxError(
                f"A {self.kind} named {name!r} is already registered ({_describe(existing)}); "
                f"choose another name for {_describe(obj)}, or pass replace=True."
            )
        self._members[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` if registered (tests and interactive sessions use this)."""
        self._members.pop(name, None)

    def get(self, name: str) -> T:
        """Return the member called ``name``.

        Raises:
            NotFoundError: no such member, even after loading entry-point plugins; the
                message lists close matches and every known name.
        """
        if name not in self._members:
            self.load_entry_points()
        try:
            return self._members[name]
        except KeyError:
            raise NotFoundError(unknown_name_message(self.kind, name, self.names())) from None

    def names(self) -> list[str]:
        """Every registered name, sorted, entry-point plugins included."""
        self.load_entry_points()
        return sorted(self._members)

    def items(self) -> list[tuple[str, T]]:
        """Every (name, member) pair, sorted by name."""
        return [(n, self._members[n]) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._members or name in self.names())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def load_entry_points(self) -> None:
        """Import every plugin of this registry's entry-point group, once."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib import metadata  # here, not at import: it costs the CLI's start-up 0.1 s

        for ep in metadata.entry_points(group=self.group):
            if ep.name in self._members:
                continue
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken plugin must not hide the others
                _log.warning("Could not load %s plugin %r (%s): %s", self.kind, ep.name, ep.value, exc)
                continue
            # A module registers its members on import; an object is registered by the
            # entry point's name.
            if ep.name not in self._members and not isinstance(loaded, ModuleType):
                self._members[ep.name] = loaded


def _same_definition(a: object, b: object) -> bool:
    """True when two objects are the same definition imported twice (same qualified name)."""
    if a is b:
        return True
    qa = (getattr(a, "__module__", None), getattr(a, "__qualname__", None))
    qb = (getattr(b, "__module__", None), getattr(b, "__qualname__", None))
    if qa[1] is not None and qa == qb:
        return True
    ka, kb = getattr(a, "definition_key", None), getattr(b, "definition_key", None)
    return ka is not None and ka == kb


def _describe(obj: object) -> str:
    key = getattr(obj, "definition_key", None)
    if key:
        return str(key)
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"
