"""The time stamps the database stores: the shop's local time, naive, to the second."""

from __future__ import annotations

import datetime as dt
from typing import Callable

Clock = Callable[[], dt.datetime]


def shop_now() -> dt.datetime:
    """Now in ``SHOP_TIMEZONE`` without tzinfo or microseconds (MySQL DATETIME keeps none)."""
    from kefu.settings import get_settings

    return get_settings().now().replace(tzinfo=None, microsecond=0)
