"""Who the customer is: the signed identity token a channel puts in the message metadata."""

from __future__ import annotations

from rasa_sdk import Tracker

from kefu.security.tokens import customer_of
from kefu.settings import get_settings


def logged_in_user(tracker: Tracker) -> str | None:
    """The user id of the latest message's valid ``metadata.user_token``, else None (not logged in).

    Only the current message counts: an expired or missing token later in the conversation means
    the customer is no longer logged in.
    """
    metadata = tracker.latest_message.get("metadata") or {}
    token = metadata.get("user_token") if isinstance(metadata, dict) else None
    settings = get_settings()
    return customer_of(token, settings)
