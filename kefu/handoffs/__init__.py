"""Handing a conversation over to a human: agent hours and the handoff desk. Importable without Rasa."""
