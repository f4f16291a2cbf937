"""Store methods of the alert outbox: each alert's delivery state per sink, claimed before a
send so that concurrent ``calibrax monitor`` processes never send one alert twice.

A delivery is ``pending`` (due at ``next_at``), ``sending`` (claimed by one process until
``lease_until``; a claim whose lease ran out, its process killed mid-send, may be claimed
again) or ``delivered``. A mixin of :class:`calibrax.storage.Store`.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from calibrax.core import Alert
from calibrax.storage import _rows

__all__ = ["Delivery", "DeliveryState", "OutboxMixin"]

_LEASE_MARGIN_S = 30.0


@dataclass(frozen=True)
class Delivery:
    """One claimed delivery: send ``alert`` to the sink named ``sink``, then record the outcome.

    Attributes:
        alert: the alert.
        sink: the sink's name (``webhook:https://...``).
        claim: the claim's token; only the holder may record the outcome.
        attempts: attempts made before this one.
    """

    alert: Alert
    sink: str
    claim: str
    attempts: int


@dataclass(frozen=True)
class DeliveryState:
    """Where the delivery of one alert to one sink stands.

    Attributes:
        alert_id: the alert.
        sink: the sink's name.
        state: ``pending``, ``sending`` or ``delivered``.
        attempts: attempts made so far.
        next_at: POSIX time at which a pending delivery is next due.
        last_error: why the last attempt failed, if it did.
        delivered_at: when it was delivered (ISO-8601, UTC).
    """

    alert_id: str
    sink: str
    state: str
    attempts: int
    next_at: float
    last_error: str | None
    delivered_at: str | None


class OutboxMixin:
    """Claim, finish and list alert deliveries."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Database]: ...

        def _read(self) -> contextlib.AbstractContextManager[Database]: ...

    def claim_deliveries(self, sinks: Mapping[str, float], *, due_only: bool = True,
                         now: float | None = None) -> list[Delivery]:
        """Claim every delivery to these sinks that is pending (and due, with ``due_only``) or
        whose earlier claim's lease ran out, in one write transaction.

        Args:
            sinks: each sink's name and the seconds one attempt may take; a sink's claims
                last for all its attempts plus a margin.
            due_only: only deliveries whose backoff has passed; false claims every pending one.
            now: the POSIX time (the clock, by default).

        Example:
            claimed = store.claim_deliveries({"webhook:https://hooks.example.org/x": 10.0})
        """
        now = time.time() if now is None else now
        if not sinks:
            return []
        marks = ", ".join("?" * len(sinks))
        due = "AND d.next_at <= ?" if due_only else ""
        sql = (f"SELECT a.*, d.sink AS d_sink, d.attempts AS d_attempts FROM alert_deliveries d "
               f"JOIN alerts a ON a.id = d.alert_id WHERE d.sink IN ({marks}) "
               f"AND ((d.state = 'pending' {due}) OR (d.state = 'sending' AND d.lease_until < ?)) "
               "ORDER BY a.at, a.id")
        args: list[object] = [*sinks, *([now] if due_only else []), now]
        claimed: list[Delivery] = []
        with self._write() as db:
            rows = list(db.query(sql, args))
            counts = {name: sum(1 for r in rows if r["d_sink"] == name) for name in sinks}
            for row in rows:
                sink, token = str(row["d_sink"]), secrets.token_hex(8)
                lease_until = now + counts[sink] * sinks[sink] + _LEASE_MARGIN_S
                cursor = db.execute(
                    "UPDATE alert_deliveries SET state = 'sending', claim = ?, lease_until = ? "
                    "WHERE alert_id = ? AND sink = ? AND (state = 'pending' OR (state = 'sending' AND lease_until < ?))",
                    [token, lease_until, row["id"], sink, now],
                )
                if cursor.rowcount == 1:
                    alert_row = {k: v for k, v in row.items() if not k.startswith("d_")}
                    claimed.append(Delivery(_rows.alert(alert_row), sink, token, int(row["d_attempts"])))
        return claimed

    def finish_delivery(self, delivery: Delivery, *, error: str | None = None, retry_at: float = 0.0,
                        attempted: bool = True) -> bool:
        """Record the outcome of a claimed delivery: delivered when ``error`` is None, else
        pending again, due at ``retry_at``.

        Args:
            delivery: the claim.
            error: why it was not delivered; None when it was.
            retry_at: POSIX time the next attempt is due (failures only).
            attempted: false gives the claim back without counting an attempt (not sent).

        Returns:
            False when the claim is no longer held (its lease ran out and another process
            claimed the delivery); nothing is written then.

        Example:
            store.finish_delivery(claimed[0])  # delivered
        """
        base = "WHERE alert_id = ? AND sink = ? AND claim = ? AND state = 'sending'"
        key = [delivery.alert.id, delivery.sink, delivery.claim]
        if error is None:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            sql = (f"UPDATE alert_deliveries SET state = 'delivered', attempts = attempts + 1, claim = NULL, "
                   f"lease_until = NULL, last_error = NULL, delivered_at = ? {base}")
            args: list[object] = [at, *key]
        else:
            sql = (f"UPDATE alert_deliveries SET state = 'pending', attempts = attempts + ?, claim = NULL, "
                   f"lease_until = NULL, last_error = ?, next_at = ? {base}")
            args = [int(attempted), error, retry_at, *key]
        with self._write() as db:
            return db.execute(sql, args).rowcount == 1

    def delivery_states(self, *, state: str | None = None) -> list[DeliveryState]:
        """Every alert delivery, oldest alert first; only those in ``state`` when given.

        Example:
            [d.sink for d in store.delivery_states(state="pending")]
        """
        where, args = ("WHERE d.state = ?", [state]) if state is not None else ("", [])
        sql = ("SELECT d.alert_id, d.sink, d.state, d.attempts, d.next_at, d.last_error, d.delivered_at "
               f"FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id {where} ORDER BY a.at, a.id, d.sink")
        with self._read() as db:
            return [DeliveryState(*row) for row in db.execute(sql, args).fetchall()]
