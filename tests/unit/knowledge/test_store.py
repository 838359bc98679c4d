import json

import pytest

from kefu.knowledge.store import IndexStore, IndexUnavailableError, knowledge_units, update_index
from tests.unit.knowledge.fakes import RecordingEmbedder


class FakeFaqTable:
    def __init__(self):
        self.synced = []

    def __call__(self, entries):
        self.synced.append([e.topic for e in entries])
        return {"created": len(entries)}


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_first_import_embeds_every_unit_and_syncs_the_faq_table(knowledge_dir, index_dir):
    embedder, table = RecordingEmbedder(), FakeFaqTable()
    report = update_index(knowledge_dir, index_dir, embedder, sync_faq=table)
    assert report.changed and report.previous_version is None
    assert report.faq == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    assert report.embedded == report.units == len(embedder.texts) == 9  # 7 FAQ questions, 2 chunks
    assert table.synced == [["shipping_fee", "invoice"]]
    snapshot = IndexStore(index_dir).load()
    assert snapshot.version == report.version and snapshot.vectors.shape == (9, 64)
    assert [e.topic for e in snapshot.sources.faq] == ["shipping_fee", "invoice"]


def test_a_second_run_without_changes_embeds_and_writes_nothing(knowledge_dir, index_dir):
    update_index(knowledge_dir, index_dir, RecordingEmbedder())
    stamp = IndexStore(index_dir).stamp()
    embedder = RecordingEmbedder()
    report = update_index(knowledge_dir, index_dir, embedder)
    assert not report.changed and report.embedded == 0 and embedder.texts == []
    assert report.faq["unchanged"] == 2 and report.documents["unchanged"] == 1
    assert IndexStore(index_dir).stamp() == stamp


def test_only_changed_texts_are_embedded(knowledge_dir, index_dir):
    first = update_index(knowledge_dir, index_dir, RecordingEmbedder())
    edit(
        knowledge_dir / "faq.yml", "alternatives: [能开发票吗, 发票在哪里申请]", "alternatives: [能开专票吗]"
    )
    embedder = RecordingEmbedder()
    report = update_index(knowledge_dir, index_dir, embedder)
    assert report.version != first.version
    assert report.faq == {"created": 0, "updated": 1, "unchanged": 1, "deleted": 0}
    assert embedder.texts == ["能开专票吗"]
    units, _ = knowledge_units(IndexStore(index_dir).load().sources)
    assert "发票在哪里申请" not in [u.text for u in units]


def test_an_answer_change_needs_no_embedding_but_a_new_version(knowledge_dir, index_dir):
    first = update_index(knowledge_dir, index_dir, RecordingEmbedder())
    edit(knowledge_dir / "faq.yml", "收取运费8元", "收取运费10元")
    embedder = RecordingEmbedder()
    report = update_index(knowledge_dir, index_dir, embedder)
    assert report.version != first.version and embedder.texts == []
    assert "10元" in IndexStore(index_dir).load().sources.faq[0].answer


def test_removed_topics_and_documents_leave_the_index(knowledge_dir, index_dir):
    update_index(knowledge_dir, index_dir, RecordingEmbedder())
    (knowledge_dir / "docs" / "product_care.md").unlink()
    edit(knowledge_dir / "faq.yml", "  - id: invoice", "  - id: invoice_new")
    table = FakeFaqTable()
    report = update_index(knowledge_dir, index_dir, RecordingEmbedder(), sync_faq=table)
    assert report.documents["deleted"] == 1
    assert report.faq["deleted"] == 1 and report.faq["created"] == 1
    assert table.synced == [["shipping_fee", "invoice_new"]]
    snapshot = IndexStore(index_dir).load()
    assert snapshot.sources.documents == () and snapshot.vectors.shape[0] == 7
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["sources"]) == {"faq/shipping_fee", "faq/invoice_new"}


def test_rebuild_embeds_everything_again(knowledge_dir, index_dir):
    update_index(knowledge_dir, index_dir, RecordingEmbedder())
    embedder = RecordingEmbedder()
    report = update_index(knowledge_dir, index_dir, embedder, rebuild=True)
    assert report.embedded == report.units == len(embedder.texts)


def test_only_the_two_newest_generations_are_kept(knowledge_dir, index_dir):
    for fee in ("9元", "10元", "11元"):
        edit(knowledge_dir / "faq.yml", "收取运费8元", f"收取运费{fee}")
        update_index(knowledge_dir, index_dir, RecordingEmbedder())
        edit(knowledge_dir / "faq.yml", f"收取运费{fee}", "收取运费8元")
    assert len(list(index_dir.glob("snapshot-*.json"))) == 2
    assert len(list(index_dir.glob("vectors-*.npy"))) == 2


def test_loading_a_missing_index_says_how_to_build_it(index_dir):
    with pytest.raises(IndexUnavailableError, match="cli update"):
        IndexStore(index_dir).load()
