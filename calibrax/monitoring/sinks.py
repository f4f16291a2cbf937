"""Where alerts go: the log, a JSONL file, a webhook (an HTTP POST of the alert as JSON).

A sink is anything with a ``name`` and a ``send(alert)`` method; ``send`` raises when delivery
fails, and the alert manager records the failure and goes on with the other sinks.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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

    Args:
        url: an ``http://`` or ``https://`` URL.
        timeout: seconds to wait for the server.
        headers: extra request headers (an authorization token).

    Raises:
        ConfigError: the URL is not http or https.

    Example:
        >>> WebhookSink("http://127.0.0.1:9/hook").name
        'webhook:http://127.0.0.1:9/hook'
    """

    def __init__(self, url: str, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"A webhook URL must start with http:// or https://, got {url!r}.")
        self.url = url
        self.timeout = float(timeout)
        self.headers = {"Content-Type": "application/json", **dict(headers or {})}
        self.name = f"webhook:{url}"

    def send(self, alert: Alert) -> None:
        """POST the alert; a network error or a status outside 2xx raises DeliveryError."""
        body = json.dumps(alert_to_dict(alert), default=str).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"The webhook {self.url} answered HTTP {exc.code} {exc.reason}.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"The webhook {self.url} could not be reached: {exc}.") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"The webhook {self.url} answered HTTP {status}.")


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
    return WebhookSink(str(spec["url"]), timeout=float(spec.get("timeout", 10.0)), headers=spec.get("headers"))
