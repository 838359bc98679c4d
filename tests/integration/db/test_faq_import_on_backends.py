"""The knowledge import into the SQL ``faq`` table, on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from kefu.db.engine import session_scope
from kefu.db.faq import FaqRepository
from kefu.db.models import FaqRow
from kefu.knowledge import cli
from kefu.knowledge.embeddings import HashingEmbedder
from kefu.knowledge.sources import load_sources
from kefu.knowledge.store import update_index
from kefu.settings import get_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def knowledge_dir(tmp_path) -> Path:
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    return tmp_path / "knowledge"


def ticking_clock():
    times = iter(dt.datetime(2026, 11, 1, 9, 0) + dt.timedelta(hours=h) for h in range(100))
    return lambda: next(times)


def rows(url: str) -> dict[str, FaqRow]:
    with session_scope(url) as session:
        return {row.topic: row for row in session.scalars(select(FaqRow))}


def test_import_then_incremental_update(migrated_url, knowledge_dir, tmp_path):
    repository = FaqRepository(migrated_url, ticking_clock())
    index_dir = tmp_path / "index"
    first = update_index(knowledge_dir, index_dir, HashingEmbedder(), sync_faq=repository.sync)
    sources = load_sources(knowledge_dir)
    assert first.sql == {"created": 30, "updated": 0, "unchanged": 0, "deleted": 0}
    imported = rows(migrated_url)
    assert set(imported) == {e.topic for e in sources.faq}
    shipping = imported["shipping_fee"]
    entry = next(e for e in sources.faq if e.topic == "shipping_fee")
    assert (shipping.question, shipping.answer, shipping.tags) == (
        entry.question,
        entry.answer,
        ",".join(entry.tags),
    )
    assert isinstance(shipping.id, int) and shipping.create_time == shipping.updated_time

    faq = knowledge_dir / "faq.yml"
    text = faq.read_text(encoding="utf-8")
    faq.write_text(text.replace(entry.answer, "全场包邮，不收运费。", 1), encoding="utf-8")
    again = update_index(knowledge_dir, index_dir, HashingEmbedder(), sync_faq=repository.sync)
    assert again.sql == {"created": 0, "updated": 1, "unchanged": 29, "deleted": 0}
    updated = rows(migrated_url)["shipping_fee"]
    assert updated.answer == "全场包邮，不收运费。"
    assert updated.create_time == shipping.create_time < updated.updated_time
    assert updated.id == shipping.id


def test_removed_topics_are_deleted_from_the_table(migrated_url, knowledge_dir, tmp_path):
    repository = FaqRepository(migrated_url)
    update_index(knowledge_dir, tmp_path / "index", HashingEmbedder(), sync_faq=repository.sync)
    faq = knowledge_dir / "faq.yml"
    head, _, rest = faq.read_text(encoding="utf-8").partition("\n  - id: shipping_fee\n")
    assert rest, "faq.yml layout changed: the test removes the shipping_fee entry"
    following = rest.find("\n  - id: ")
    faq.write_text(head + ("\n" + rest[following + 1 :] if following >= 0 else "\n"), encoding="utf-8")
    report = update_index(knowledge_dir, tmp_path / "index", HashingEmbedder(), sync_faq=repository.sync)
    assert report.sql["deleted"] == 1 and report.faq["deleted"] == 1
    assert "shipping_fee" not in rows(migrated_url)
    assert len(rows(migrated_url)) == 29


def test_the_cli_names_a_missing_faq_table(database_url, knowledge_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KB_DIR", str(knowledge_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("KB_EMBEDDER", "hashing")
    get_settings.cache_clear()
    try:
        assert cli.main(["update", "--quiet"]) == 2
    finally:
        get_settings.cache_clear()
    assert "has no faq table" in capsys.readouterr().err
