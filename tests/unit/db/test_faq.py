import datetime as dt

import pytest

from kefu.db.faq import FaqChange, FaqRepository
from kefu.knowledge.sources import FaqEntry

SHIPPING = FaqEntry(
    topic="shipping_fee",
    question="运费怎么算",
    answer="订单实付满99元包邮；不满99元收取运费8元。",
    tags=("配送", "运费"),
    alternatives=("邮费多少钱", "多少钱包邮"),
)
INVOICE = FaqEntry(topic="invoice", question="怎么开发票", answer="支持开具电子发票。")


@pytest.fixture
def faq(db_url):
    return FaqRepository(db_url)


def counts(created=0, updated=0, unchanged=0, deleted=0):
    return {
        FaqChange.CREATED: created,
        FaqChange.UPDATED: updated,
        FaqChange.UNCHANGED: unchanged,
        FaqChange.DELETED: deleted,
    }


def test_sync_creates_then_leaves_unchanged(faq):
    assert faq.sync([SHIPPING]) == counts(created=1)
    assert faq.sync([SHIPPING]) == counts(unchanged=1)
    assert faq.get("shipping_fee") == SHIPPING


def test_sync_updates_changed_content(db_url):
    times = iter([dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2)])
    faq = FaqRepository(db_url, lambda: next(times))
    faq.sync([SHIPPING])
    changed = FaqEntry(**{**SHIPPING.__dict__, "answer": "满199元包邮。", "alternatives": ("包邮吗",)})
    assert faq.sync([changed]) == counts(updated=1)
    assert faq.all() == [changed]


def test_all_sorted_by_topic(faq):
    faq.sync([SHIPPING, INVOICE])
    assert [entry.topic for entry in faq.all()] == ["invoice", "shipping_fee"]
    assert faq.get("invoice").tags == () and faq.get("invoice").alternatives == ()


def test_sync_deletes_the_topics_no_longer_there(faq):
    faq.sync([SHIPPING, INVOICE])
    assert faq.sync([INVOICE]) == counts(unchanged=1, deleted=1)
    assert [entry.topic for entry in faq.all()] == ["invoice"]


def test_sync_refuses_to_empty_the_table(faq):
    faq.sync([SHIPPING])
    with pytest.raises(ValueError, match="refusing"):
        faq.sync([])
    assert len(faq.all()) == 1


def test_tags_with_commas_are_refused(faq):
    with pytest.raises(ValueError, match="comma"):
        faq.sync([FaqEntry(topic="t", question="q", answer="a", tags=("a,b",))])
