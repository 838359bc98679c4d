"""Context rules for follow-up messages: which intent a short follow-up means after another one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from kefu.text import find_order_ids, normalize_text


@dataclass(frozen=True)
class ContextRule:
    """After one of ``after``, a short message containing one of ``keywords`` means ``rewrite_to``."""

    after: frozenset[str]
    keywords: tuple[str, ...]
    rewrite_to: str

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> ContextRule:
        try:
            return cls(frozenset(raw["after"]), tuple(raw["keywords"]), str(raw["rewrite_to"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"context rule {dict(raw)!r} needs `after` (intents), `keywords` and `rewrite_to`"
            ) from exc


def rewrite_intent(
    rules: list[ContextRule], previous: str | None, intent: str | None, text: str, max_chars: int
) -> str | None:
    """The intent the message means in context, or ``intent`` unchanged.

    Only short follow-ups without an order number of their own are rewritten: a long message
    or one naming an order stands on its own.
    """
    cleaned = normalize_text(text).strip()
    if previous is None or len(cleaned) > max_chars or find_order_ids(cleaned):
        return intent
    for rule in rules:
        if previous in rule.after and any(k in cleaned for k in rule.keywords):
            return rule.rewrite_to
    return intent
