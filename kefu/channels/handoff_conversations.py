"""The handoff desk's side of Rasa: an agent's messages go into the conversation and out through
the customer's own channel (:class:`kefu.handoffs.desk.Conversations`)."""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
)

from kefu.channels.http import (
    ApiError,
)
from kefu.handoffs.desk import transcript_from_events

logger = logging.getLogger(__name__)


class RasaConversations:
    """The handoff desk's view of Rasa's conversations (:class:`kefu.handoffs.desk.Conversations`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def agent(self) -> Any:
        agent = getattr(self.app.ctx, "agent", None)
        if agent is None:
            raise ApiError("助手尚未就绪。 The assistant is not ready.", 503, "unavailable")
        return agent

    async def transcript(self, sender_id: str) -> list[dict[str, Any]]:
        tracker = await self.agent.tracker_store.retrieve(sender_id)
        return transcript_from_events(e.as_dict() for e in tracker.events) if tracker else []

    async def pause(self, sender_id: str, notice: str, agent: str) -> None:
        await self._append(sender_id, [ConversationPaused()], notice, agent)

    async def say(self, sender_id: str, text: str, agent: str) -> None:
        await self._append(sender_id, [], text, agent)

    async def resume(self, sender_id: str, notice: str, agent: str) -> None:
        await self._append(sender_id, [ConversationResumed()], notice, agent)

    async def _append(self, sender_id: str, events: list[Event], text: str, agent: str) -> None:
        """Appends ``events`` and the agent's message to the conversation, then delivers the message."""
        rasa_agent = self.agent
        async with rasa_agent.lock_store.lock(sender_id):
            tracker = await rasa_agent.tracker_store.retrieve(sender_id)
            if tracker is None:
                raise ApiError("会话不存在。 The conversation no longer exists.", 404, "not_found")
            for event in events:
                tracker.update(event)
            tracker.update(BotUttered(text, metadata={"agent": agent}))
            await rasa_agent.tracker_store.save(tracker)
            channel_name = tracker.get_latest_input_channel()
        output = self._output_channel(channel_name)
        if output is not None:
            try:
                await output.send_text_message(sender_id, text)
            except Exception:
                logger.exception(
                    "Could not deliver an agent's message to %s over %s.", sender_id, channel_name
                )

    def _output_channel(self, name: str | None) -> Any:
        for channel in getattr(self.app.ctx, "input_channels", None) or []:
            if channel.name() == name:
                return channel.get_output_channel()
        return None
