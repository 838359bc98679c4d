"""What the WeChat channels keep in the SQL database: contacts and bindings, seen messages, cursors.

A contact's WeChat id (公众号 OpenID, WeCom external_userid) is stored encrypted and never used as a
sender id: conversations, logs and the admin views see a keyed hash of it (:func:`sender_id_for`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from kefu.db.clock import Clock, shop_now
from kefu.db.engine import session_scope
from kefu.db.models import WECHAT_OPENID, WechatContactRow, WechatSeenRow, WecomCursorRow
from kefu.security.crypto import FieldCipher, default_cipher

SEEN_KEEP = dt.timedelta(days=1)  # WeChat retries within seconds; a day is plenty
_PURGE_EVERY = 500


def sender_id_for(channel: str, wechat_id: str, secret: str) -> str:
    """The conversation's sender id: ``<channel>-`` and a keyed hash of the WeChat id."""
    digest = hmac.new(secret.encode(), f"{channel}:{wechat_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"


@dataclass(frozen=True)
class Contact:
    """A WeChat customer as the channels see them (``wechat_id`` only ever goes back to WeChat)."""

    sender_id: str
    channel: str
    wechat_id: str
    open_kfid: str | None = None
    user_id: str | None = None
    choices: list[str] = field(default_factory=list)


class ContactRepository:
    """Contacts in the database at ``url`` (default ``DATABASE_URL``), WeChat ids encrypted."""

    def __init__(
        self,
        secret: str,
        url: str | None = None,
        cipher: FieldCipher | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._secret = secret
        self._url = url
        self._cipher = cipher or default_cipher()
        self._clock = clock or shop_now

    def contact_for(self, channel: str, wechat_id: str, open_kfid: str | None = None) -> Contact:
        """The contact behind ``wechat_id``, recorded on first sight."""
        sender_id = sender_id_for(channel, wechat_id, self._secret)
        found = self.get(sender_id)
        if found is not None and (open_kfid is None or found.open_kfid == open_kfid):
            return found
        try:
            with session_scope(self._url) as session:
                row = session.get(WechatContactRow, sender_id)
                if row is None:
                    row = WechatContactRow(
                        sender_id=sender_id,
                        channel=channel,
                        openid_enc=self._cipher.encrypt(wechat_id, WECHAT_OPENID),
                        created_at=self._clock(),
                    )
                    session.add(row)
                row.open_kfid = open_kfid or row.open_kfid
        except IntegrityError:  # another process recorded it at the same moment
            pass
        return self.get(sender_id) or Contact(sender_id, channel, wechat_id, open_kfid)

    def get(self, sender_id: str) -> Contact | None:
        with session_scope(self._url) as session:
            row = session.get(WechatContactRow, sender_id)
            if row is None:
                return None
            return Contact(
                sender_id=row.sender_id,
                channel=row.channel,
                wechat_id=self._cipher.decrypt(row.openid_enc, WECHAT_OPENID),
                open_kfid=row.open_kfid,
                user_id=row.user_id,
                choices=json.loads(row.choices) if row.choices else [],
            )

    def bind(self, sender_id: str, user_id: str | None) -> None:
        """Binds the contact to the shop customer ``user_id`` (None: removes the binding)."""
        self._update(sender_id, user_id=user_id, bound_at=self._clock() if user_id else None)

    def offer_choices(self, sender_id: str, payloads: list[str]) -> None:
        """Remembers the payloads of the numbered choices just sent (empty: none pending)."""
        self._update(sender_id, choices=json.dumps(payloads, ensure_ascii=False) if payloads else None)

    def _update(self, sender_id: str, **values: object) -> None:
        statement = update(WechatContactRow).where(WechatContactRow.sender_id == sender_id).values(values)
        with session_scope(self._url) as session:
            session.execute(statement)


class SqlSeenMessages:
    """Deduplication in the SQL database: the first process to insert a key takes the message."""

    def __init__(self, url: str | None = None, clock: Clock | None = None) -> None:
        self._url = url
        self._clock = clock or shop_now
        self._inserts = 0

    def first(self, key: str) -> bool:
        now = self._clock()
        try:
            with session_scope(self._url) as session:
                session.add(WechatSeenRow(key=key, seen_at=now))
        except IntegrityError:
            return False
        self._inserts += 1
        if self._inserts % _PURGE_EVERY == 1:
            with session_scope(self._url) as session:
                session.execute(delete(WechatSeenRow).where(WechatSeenRow.seen_at < now - SEEN_KEEP))
        return True


class CursorRepository:
    """The ``sync_msg`` cursor of each WeCom customer-service account, saved after every page."""

    def __init__(self, url: str | None = None, clock: Clock | None = None) -> None:
        self._url = url
        self._clock = clock or shop_now

    def get(self, open_kfid: str) -> str:
        with session_scope(self._url) as session:
            row = session.get(WecomCursorRow, open_kfid)
            return row.cursor if row else ""

    def save(self, open_kfid: str, cursor: str) -> None:
        try:
            with session_scope(self._url) as session:
                row = session.get(WecomCursorRow, open_kfid)
                if row is None:
                    session.add(WecomCursorRow(open_kfid=open_kfid, cursor=cursor, updated_at=self._clock()))
                else:
                    row.cursor, row.updated_at = cursor, self._clock()
        except IntegrityError:  # another process saved the first cursor at the same moment
            self.save(open_kfid, cursor)
