"""Where alerts go: the log, a JSONL file, a webhook (an HTTP POST of the alert as JSON).

A sink is anything with a ``name`` and a ``send(alert)`` method; ``send`` raises when delivery
fails, and the caller records the failure and goes on with the other sinks. A sink may give
``deadline``, the seconds one ``send`` can take (the outbox leases its claims by it).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import SplitResult, urlsplit

from calibrax.core.checks import Alert, Severity, alert_to_dict
from calibrax.core.errors import CalibraxError, ConfigError

__all__ = ["AlertSink", "DeliveryError", "JsonlSink", "LogSink", "WebhookSink", "sink_from_config"]


class DeliveryError(CalibraxError):
    """Raised by a sink that could not deliver an alert (the webhook refused it, the file is
    not writable)."""


@runtime_checkable
class AlertSink(Protocol):
    """A destination for alerts."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise when it could not be delivered."""
        ...


_LEVELS = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.ERROR: logging.ERROR,
    Severity.CRITICAL: logging.CRITICAL,
}


class LogSink:
    """Log each alert at the level of its severity.

    Example:
        >>> LogSink().name
        'log'
    """

    def __init__(self, logger: str = "calibrax.alerts") -> None:
        self.name = "log"
        self.deadline = 10.0
        self._log = logging.getLogger(logger)

    def send(self, alert: Alert) -> None:
        """Log ``[severity] rule: message``."""
        severity = Severity(alert.severity)
        self._log.log(_LEVELS[severity], "[%s] %s: %s", severity.value, alert.rule, alert.message)


class JsonlSink:
    """Append each alert to a file as one JSON object per line.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "alerts.jsonl"
        >>> JsonlSink(path).send(Alert("a1", "slow", Severity.INFO, "Slower.", "t0"))
        >>> json.loads(path.read_text())["rule"]
        'slow'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"jsonl:{self.path}"
        self.deadline = 10.0

    def send(self, alert: Alert) -> None:
        """Append the alert's JSON as a line, creating the file and its folder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(alert_to_dict(alert), default=str) + "\n")
        except OSError as exc:
            raise DeliveryError(f"Cannot append the alert to {str(self.path)!r}: {exc}.") from exc


class WebhookSink:
    """POST each alert as JSON to a URL (a chat webhook, an incident tool, your service).

    ``timeout`` is a total deadline for one POST (connecting, sending, reading the answer),
    not a limit per read: a server that trickles its answer is cut off at the deadline.
    Redirects are not followed (so the headers, an authorization token among them, never go
    to another host): a 3xx answer counts as not delivered.

    Args:
        url: an ``http://`` or ``https://`` URL with a host.
        timeout: seconds one POST may take in all, finite and > 0.
        headers: extra request headers (an authorization token).

    Raises:
        ConfigError: the URL is not http(s) with a host and a valid port, the timeout is not a
            finite number > 0, or a header is not a string.

    Example:
        >>> WebhookSink("http://127.0.0.1:9/hook").name
        'webhook:http://127.0.0.1:9/hook'
    """

    def __init__(self, url: str, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        self._parts = _check_url(url)
        self.url = url
        self.timeout = _check_timeout(timeout)
        self.deadline = self.timeout
        if headers is not None and not isinstance(headers, Mapping):
            raise ConfigError(f"Webhook headers must be a mapping of names to strings, got {headers!r}.")
        bad = [k for k, v in (headers or {}).items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise ConfigError(f"Webhook headers must be strings, e.g. Authorization: 'Bearer ...'; {bad[0]!r} is not.")
        self.headers = {"Content-Type": "application/json", **dict(headers or {})}
        self.name = f"webhook:{url}"

    def send(self, alert: Alert) -> None:
        """POST the alert within the deadline; no answer in time, a network error, a redirect
        or a status outside 2xx raises DeliveryError."""
        body = json.dumps(alert_to_dict(alert), default=str).encode("utf-8")
        started = time.monotonic()
        try:
            status, reason, location = _post(self._parts, body, self.headers, self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            if time.monotonic() - started >= self.timeout:
                raise DeliveryError(f"The webhook {self.url} gave no complete answer within its deadline "
                                    f"timeout={self.timeout:g} s.") from exc
            raise DeliveryError(f"The webhook {self.url} could not be reached: {exc or type(exc).__name__}.") from exc
        if 300 <= status < 400:
            raise DeliveryError(f"The webhook {self.url} answered HTTP {status} {reason}, a redirect to {location!r}; "
                                "calibrax does not follow redirects (its headers must not reach another host): "
                                "set the sink's url to the final address.")
        if not 200 <= status < 300:
            raise DeliveryError(f"The webhook {self.url} answered HTTP {status} {reason}.")


def _check_url(url: str) -> SplitResult:
    parts = urlsplit(str(url))
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or any(c.isspace() for c in url):
        raise ConfigError(f"A webhook URL must start with http:// or https:// and name a host (and a valid port), "
                          f"e.g. https://hooks.example.org/x, got {url!r}.")
    return parts


def _check_timeout(timeout: object) -> float:
    try:
        value = float(timeout)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(timeout, bool) or not (math.isfinite(value) and value > 0):
        raise ConfigError(f"A webhook timeout is a total deadline in seconds, a finite number > 0 (e.g. 10), "
                          f"got {timeout!r}.")
    return value


def _post(parts: SplitResult, body: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, str, str | None]:
    """POST ``body``; a timer shuts the socket down at the deadline, which ends any blocked read."""
    deadline = time.monotonic() + timeout
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.connect()
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("connecting took the whole deadline")
        cut = threading.Event()
        timer = threading.Timer(left, _cut, [conn.sock, cut])
        timer.daemon = True
        timer.start()
        try:
            conn.request("POST", path, body=body, headers=dict(headers))
            response = conn.getresponse()
            response.read()
        finally:
            timer.cancel()
        if cut.is_set():  # an answer cut short can look complete (EOF ends the headers)
            raise TimeoutError("the deadline passed")
        return response.status, response.reason, response.getheader("Location")
    finally:
        conn.close()


def _cut(sock: socket.socket, cut: threading.Event) -> None:
    cut.set()
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def sink_from_config(spec: Mapping[str, Any], where: str = "sinks") -> AlertSink:
    """Build a sink from its config: ``{type: log}``, ``{type: jsonl, path: ...}`` or
    ``{type: webhook, url: ..., timeout: 10, headers: {...}}``.

    Raises:
        ConfigError: an unknown type, or a missing or unknown key.

    Example:
        >>> sink_from_config({"type": "webhook", "url": "https://example.org/hook"}).name
        'webhook:https://example.org/hook'
    """
    allowed = {"log": {"logger"}, "jsonl": {"path"}, "webhook": {"url", "timeout", "headers"}}
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if kind not in allowed:
        raise ConfigError(f"{where}: each sink needs type: log, jsonl or webhook, got {spec!r}.")
    extra = set(spec) - allowed[kind] - {"type"}
    if extra:
        raise ConfigError(f"{where}: a {kind} sink takes {', '.join(sorted(allowed[kind])) or 'no keys'}, "
                          f"not {', '.join(sorted(extra))}.")
    if kind == "log":
        return LogSink(str(spec.get("logger", "calibrax.alerts")))
    key = "path" if kind == "jsonl" else "url"
    if not spec.get(key):
        raise ConfigError(f"{where}: a {kind} sink needs {key}: ..., got {dict(spec)}.")
    if kind == "jsonl":
        return JsonlSink(str(spec["path"]))
    try:
        return WebhookSink(str(spec["url"]), timeout=spec.get("timeout", 10.0), headers=spec.get("headers"))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
