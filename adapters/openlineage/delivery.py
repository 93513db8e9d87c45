"""How live OpenLineage emission fared, kept per consumer in the database beside the views.

Live emission runs in whichever process runs a pipeline; ``lineagelog
openlineage status`` (and ``projections status``) run in another. So the
emitter adds its counts here: events delivered, events that failed, the first
log position not delivered (where ``lineagelog openlineage send --since`` should
start again) and the last error. A ``send`` that delivers everything from that
position on clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import StorageError
from lineagelog.projections import schema as t

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["DeliveryRecord", "DeliveryStatusStore"]


@dataclass(frozen=True)
class DeliveryRecord:
    """One consumer's delivery figures: ``first_undelivered`` is None when nothing is owed."""

    consumer: str
    delivered: int
    failed: int
    first_undelivered: int | None
    last_error: str | None
    updated_at: datetime


class DeliveryStatusStore:
    """Reads and adds to the delivery figures in the views' database."""

    def __init__(self, engine: Engine) -> None:
        """Keep the figures in the database of ``engine`` (its tables already created)."""
        self.engine = engine

    def add(
        self,
        consumer: str,
        *,
        delivered: int,
        failed: int,
        first_undelivered: int | None,
        last_error: str | None,
    ) -> None:
        """Add counts for ``consumer``; keep the earliest undelivered position and the last error.

        Raises:
            StorageError: the database failed.

        """
        table = t.openlineage_deliveries
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    select(table.c.first_undelivered).where(table.c.consumer == consumer)
                ).first()
                if row is None:
                    conn.execute(
                        table.insert(),
                        {
                            "consumer": consumer,
                            "delivered": delivered,
                            "failed": failed,
                            "first_undelivered": first_undelivered,
                            "last_error": last_error,
                            "updated_at": now,
                        },
                    )
                    return
                earliest = min(
                    (p for p in (row.first_undelivered, first_undelivered) if p is not None),
                    default=None,
                )
                values: dict[str, object] = {
                    "delivered": table.c.delivered + delivered,
                    "failed": table.c.failed + failed,
                    "first_undelivered": earliest,
                    "updated_at": now,
                }
                if last_error is not None:
                    values["last_error"] = last_error
                conn.execute(update(table).where(table.c.consumer == consumer).values(values))
        except SQLAlchemyError as e:
            raise StorageError(f"could not record OpenLineage delivery figures: {e}") from e

    def settled(self, consumer: str, since: int) -> None:
        """Everything after log position ``since`` reached ``consumer``: nothing owed from there.

        Raises:
            StorageError: the database failed.

        """
        table = t.openlineage_deliveries
        owed = table.c.first_undelivered
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.consumer == consumer, owed > since)
                    .values(first_undelivered=None, updated_at=datetime.now(UTC))
                )
        except SQLAlchemyError as e:
            raise StorageError(f"could not record OpenLineage delivery figures: {e}") from e

    def all(self) -> list[DeliveryRecord]:
        """Every consumer's figures, by consumer.

        Raises:
            StorageError: the database failed.

        """
        table = t.openlineage_deliveries
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(table).order_by(table.c.consumer)).all()
        except SQLAlchemyError as e:
            raise StorageError(f"could not read OpenLineage delivery figures: {e}") from e
        return [
            DeliveryRecord(
                r.consumer, r.delivered, r.failed, r.first_undelivered, r.last_error, r.updated_at
            )
            for r in rows
        ]
