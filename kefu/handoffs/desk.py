"""The handoff desk: the queue of customers waiting for a human, and an agent's work on one.

The conversation itself lives in Rasa; :class:`Conversations` is what the desk needs from it (the
Rasa side is :class:`kefu.channels.handoff_conversations.RasaConversations`). Claiming pauses the bot
(Rasa's ``ConversationPaused``: the customer's messages are still recorded, the bot no longer
answers); the agent's replies are recorded as bot messages marked with the agent and delivered
through the customer's channel; closing resumes the bot (``ConversationResumed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from kefu.db.handoffs import HandoffRepository
from kefu.db.records import HandoffRequest, HandoffStatus

CLAIMED_NOTICE = "人工客服{agent}已接入，请问有什么可以帮您？"
CLOSED_NOTICE = "人工客服已结束本次服务，接下来由智能助手继续为您服务。"
MAX_REPLY_CHARS = 2000
MAX_TRANSCRIPT_TURNS = 50


class HandoffError(ValueError):
    """An action on a handoff that can't be done; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Conversations(Protocol):
    """What the desk needs from the assistant's conversations."""

    async def transcript(self, sender_id: str) -> list[dict[str, Any]]: ...

    async def pause(self, sender_id: str, notice: str, agent: str) -> None: ...

    async def say(self, sender_id: str, text: str, agent: str) -> None: ...

    async def resume(self, sender_id: str, notice: str, agent: str) -> None: ...


def transcript_from_events(
    events: Iterable[Mapping[str, Any]], limit: int = MAX_TRANSCRIPT_TURNS
) -> list[dict]:
    """The last ``limit`` turns of a conversation's events (as dicts): customer, bot and agent texts."""
    turns: list[dict[str, Any]] = []
    for event in events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text:
            continue
        agent = (event.get("metadata") or {}).get("agent") if kind == "bot" else None
        role = "customer" if kind == "user" else "agent" if agent else "bot"
        turn: dict[str, Any] = {"role": role, "text": text}
        if agent:
            turn["agent"] = agent
        if isinstance(event.get("timestamp"), (int, float)):
            turn["time"] = dt.datetime.fromtimestamp(event["timestamp"], dt.timezone.utc).isoformat(
                timespec="seconds"
            )
        turns.append(turn)
    return turns[-limit:]


def handoff_json(handoff: HandoffRequest, transcript: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": handoff.id,
        "sender_id": handoff.sender_id,
        "user_id": handoff.user_id,
        "reason": handoff.reason,
        "status": handoff.status.value,
        "outside_hours": handoff.outside_hours,
        "created_at": iso(handoff.created_at),
        "claimed_by": handoff.claimed_by,
        "claimed_at": iso(handoff.claimed_at),
        "closed_at": iso(handoff.closed_at),
        "transcript": list(handoff.transcript if transcript is None else transcript),
    }


class HandoffDesk:
    """The queue and the agent's actions on a handoff request."""

    def __init__(self, conversations: Conversations, handoffs: HandoffRepository | None = None) -> None:
        self.conversations = conversations
        self.handoffs = handoffs or HandoffRepository()

    async def detail(self, handoff_id: int) -> tuple[HandoffRequest, list[dict[str, Any]]]:
        """The request and the conversation as it is now (the recorded transcript when it is gone)."""
        handoff = self._get(handoff_id)
        live = await self.conversations.transcript(handoff.sender_id)
        return handoff, live or list(handoff.transcript)

    async def claim(self, handoff_id: int, agent: str) -> HandoffRequest:
        self._get(handoff_id)
        if not self.handoffs.claim(handoff_id, agent):
            raise HandoffError("该请求已被认领或已关闭。 The request was claimed or closed already.", 409)
        handoff = self._get(handoff_id)
        await self.conversations.pause(handoff.sender_id, CLAIMED_NOTICE.format(agent=agent), agent)
        return handoff

    async def reply(self, handoff_id: int, agent: str, text: object) -> HandoffRequest:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
            raise HandoffError(
                f"text 须为 1-{MAX_REPLY_CHARS} 个字符。 text: a string of 1-{MAX_REPLY_CHARS} characters."
            )
        handoff = self._held_by(handoff_id, agent)
        await self.conversations.say(handoff.sender_id, text.strip(), agent)
        return handoff

    async def close(self, handoff_id: int, agent: str) -> HandoffRequest:
        handoff = self._held_by(handoff_id, agent)
        if not self.handoffs.close(handoff_id):
            raise HandoffError("该请求已关闭。 The request is closed already.", 409)
        await self.conversations.resume(handoff.sender_id, CLOSED_NOTICE, agent)
        return self._get(handoff_id)

    def _get(self, handoff_id: int) -> HandoffRequest:
        handoff = self.handoffs.get(handoff_id)
        if handoff is None:
            raise HandoffError("转人工请求不存在。 No such handoff request.", 404)
        return handoff

    def _held_by(self, handoff_id: int, agent: str) -> HandoffRequest:
        handoff = self._get(handoff_id)
        if handoff.status != HandoffStatus.CLAIMED:
            raise HandoffError("请先认领该请求。 Claim the request first; it is not claimed.", 409)
        if handoff.claimed_by != agent:
            raise HandoffError("该请求由其他客服处理。 Another agent holds this request.", 409)
        return handoff
