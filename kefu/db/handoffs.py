"""The handoff repository: customers' requests for a human agent, with the conversation so far."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from sqlalchemy import select, update

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import HANDOFF_TRANSCRIPT, HandoffRequestRow
from kefu.db.records import HandoffRequest, HandoffStatus
from kefu.security.crypto import FieldCipher, default_cipher

OPEN = (HandoffStatus.WAITING, HandoffStatus.CLAIMED)


class HandoffRepository:
    """Handoff requests in the database at ``url`` (default: ``DATABASE_URL``), transcripts encrypted."""

    def __init__(self, url: str | None = None, clock: Clock | None = None, cipher: FieldCipher | None = None):
        self._url = url
        self._clock = clock or shop_now
        self._cipher = cipher or default_cipher()

    def create(
        self,
        sender_id: str,
        reason: str,
        transcript: Sequence[Mapping[str, Any]],
        user_id: str | None = None,
        outside_hours: bool = False,
    ) -> HandoffRequest:
        """Records a ``waiting`` request; ``transcript`` is the conversation so far, JSON-serialisable."""
        row = HandoffRequestRow(
            sender_id=sender_id,
            user_id=user_id,
            reason=reason,
            transcript_enc=self._cipher.encrypt(
                json.dumps([dict(turn) for turn in transcript], ensure_ascii=False), HANDOFF_TRANSCRIPT
            ),
            status=HandoffStatus.WAITING.value,
            created_at=self._clock(),
            outside_hours=outside_hours,
        )
        with session_scope(self._url) as session:
            session.add(row)
            session.flush()
            return self._to_handoff(row)

    def get(self, handoff_id: int) -> HandoffRequest | None:
        with session_scope(self._url) as session:
            row = session.get(HandoffRequestRow, handoff_id)
            return None if row is None else self._to_handoff(row)

    def open_for_sender(self, sender_id: str) -> HandoffRequest | None:
        """The conversation's latest request still waiting or claimed, so that it is not recorded twice."""
        statement = (
            select(HandoffRequestRow)
            .where(
                HandoffRequestRow.sender_id == sender_id,
                HandoffRequestRow.status.in_([status.value for status in OPEN]),
            )
            .order_by(HandoffRequestRow.id.desc())
            .limit(1)
        )
        with session_scope(self._url) as session:
            row = session.scalars(statement).first()
            return None if row is None else self._to_handoff(row)

    def list_waiting(self) -> list[HandoffRequest]:
        """Requests no agent has claimed yet, oldest first."""
        statement = (
            select(HandoffRequestRow)
            .where(HandoffRequestRow.status == HandoffStatus.WAITING.value)
            .order_by(HandoffRequestRow.created_at, HandoffRequestRow.id)
        )
        with session_scope(self._url) as session:
            return [self._to_handoff(row) for row in session.scalars(statement)]

    def claim(self, handoff_id: int, agent: str) -> bool:
        """Assigns a waiting request to ``agent``; False if it was not waiting (e.g. another agent won)."""
        return self._update_if(
            handoff_id,
            [HandoffStatus.WAITING],
            status=HandoffStatus.CLAIMED.value,
            claimed_by=agent,
            claimed_at=self._clock(),
        )

    def close(self, handoff_id: int) -> bool:
        """Closes a waiting or claimed request; False if it was already closed or does not exist."""
        return self._update_if(handoff_id, OPEN, status=HandoffStatus.CLOSED.value, closed_at=self._clock())

    def _update_if(self, handoff_id: int, allowed: Sequence[HandoffStatus], **values: Any) -> bool:
        statement = (
            update(HandoffRequestRow)
            .where(
                HandoffRequestRow.id == handoff_id,
                HandoffRequestRow.status.in_([status.value for status in allowed]),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with session_scope(self._url) as session:
            return session.execute(statement).rowcount == 1

    def _to_handoff(self, row: HandoffRequestRow) -> HandoffRequest:
        return HandoffRequest(
            id=row.id,
            sender_id=row.sender_id,
            user_id=row.user_id,
            reason=row.reason,
            transcript=tuple(json.loads(self._cipher.decrypt(row.transcript_enc, HANDOFF_TRANSCRIPT))),
            status=HandoffStatus(row.status),
            created_at=row.created_at,
            outside_hours=bool(row.outside_hours),
            claimed_by=row.claimed_by,
            claimed_at=row.claimed_at,
            closed_at=row.closed_at,
        )
