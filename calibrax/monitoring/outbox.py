"""Deliver stored alerts from the store's outbox: claim, send every sink in parallel, record.

An alert is stored with a pending delivery per sink before anything is sent. A delivery is
claimed (so concurrent monitors never send it twice), sent by its sink's own thread (a slow
sink delays no other), and recorded as delivered or, on failure, pending again with an
exponential backoff; a later ``calibrax monitor`` (or ``calibrax monitor --retry``, which does
not wait for the backoff) tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from calibrax.monitoring.monitor import SinkFailure
from calibrax.monitoring.sinks import AlertSink
from calibrax.storage import Delivery, Store

__all__ = ["DeliveryReport", "backoff", "deliver_pending"]

log = logging.getLogger("calibrax")

_FIRST_BACKOFF_S = 30.0
_MAX_BACKOFF_S = 3600.0
_DEFAULT_DEADLINE_S = 10.0


def backoff(attempts: int) -> float:
    """Seconds to wait before the next attempt after ``attempts`` failed ones: 30 s, doubling,
    at most an hour.

    Example:
        >>> [backoff(n) for n in (1, 2, 3, 20)]
        [30.0, 60.0, 120.0, 3600.0]
    """
    return float(min(_FIRST_BACKOFF_S * 2 ** max(0, attempts - 1), _MAX_BACKOFF_S))


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did.

    Attributes:
        delivered: how many deliveries succeeded.
        failures: the deliveries that failed (each stays pending, retried later).
        skipped: deliveries claimed but not tried because their sink had already failed in
            this pass (given back, still pending, no attempt counted).
    """

    delivered: int = 0
    failures: tuple[SinkFailure, ...] = ()
    skipped: int = 0


class _SinkLane:
    """One sink's sends, in order, on its own thread; after a failure the rest are skipped."""

    def __init__(self, sink: AlertSink) -> None:
        self.sink = sink
        self.broken = False
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calibrax-sink")

    def send(self, delivery: Delivery) -> str | None:
        """None when delivered, the error when not, ``""`` when skipped."""
        if self.broken:
            return ""
        try:
            self.sink.send(delivery.alert)
        except Exception as exc:  # one broken sink must not silence the others
            self.broken = True
            return f"{type(exc).__name__}: {exc}"
        return None


def deliver_pending(store: Store, sinks: Sequence[AlertSink], *, due_only: bool = True) -> DeliveryReport:
    """Claim the pending deliveries to ``sinks`` and send them, each sink in its own thread;
    record each outcome in the store as it comes.

    Args:
        store: an open store.
        sinks: the sinks to deliver to; deliveries to sinks not given stay pending.
        due_only: only deliveries whose backoff has passed (false: every pending one).

    Example:
        report = deliver_pending(store, [WebhookSink("https://hooks.example.org/x")])
    """
    by_name = {sink.name: sink for sink in sinks}
    claimed = store.claim_deliveries(
        {name: float(getattr(sink, "deadline", _DEFAULT_DEADLINE_S)) for name, sink in by_name.items()},
        due_only=due_only,
    )
    if not claimed:
        return DeliveryReport()
    lanes = {name: _SinkLane(sink) for name, sink in by_name.items()}
    futures: dict[Future[str | None], Delivery] = {lanes[d.sink].pool.submit(lanes[d.sink].send, d): d for d in claimed}
    delivered, skipped, failures = 0, 0, []
    try:
        for future in as_completed(futures):
            delivery, error = futures[future], future.result()
            if error is None:
                delivered += int(store.finish_delivery(delivery))
            elif error == "":
                skipped += 1
                store.finish_delivery(delivery, error="not tried: the sink failed on another alert in this pass",
                                      retry_at=time.time() + _FIRST_BACKOFF_S, attempted=False)
            else:
                failures.append(SinkFailure(delivery.sink, delivery.alert.id, error))
                log.warning("Alert sink %s failed on alert %s: %s", delivery.sink, delivery.alert.id, error)
                store.finish_delivery(delivery, error=error, retry_at=time.time() + backoff(delivery.attempts + 1))
    finally:
        for lane in lanes.values():
            lane.pool.shutdown(wait=True)
    return DeliveryReport(delivered, tuple(failures), skipped)
