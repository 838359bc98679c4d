"""Stand-ins for Rasa's processor shared by the channel tests (admin API, SDK)."""

from __future__ import annotations

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet


class FakeProcessor:
    """Starts conversations as Rasa's MessageProcessor does: the metadata slot, then a session start."""

    def __init__(self, store: InMemoryTrackerStore) -> None:
        self.store = store

    async def fetch_tracker_with_initial_session(self, sender_id, output_channel=None, metadata=None):
        tracker = await self.store.get_or_create_tracker(sender_id, append_action_listen=False)
        if not tracker.events:
            if metadata:
                tracker.update(SlotSet("session_started_metadata", metadata))
            for event in (
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ):
                tracker.update(event)
        return tracker

    async def save_tracker(self, tracker) -> None:
        await self.store.save(tracker)
