from kefu.knowledge.chunking import chunk_document
from kefu.knowledge.sources import Document


def test_chunks_follow_sections_and_keep_the_title(knowledge_dir):
    text = (knowledge_dir / "docs" / "product_care.md").read_text(encoding="utf-8")
    chunks = chunk_document(Document("product_care.md", "商品保养指南", text))
    assert [c.section for c in chunks] == ["羽绒服", "保温杯"]
    assert all(c.title == "商品保养指南" for c in chunks)
    assert "不要机洗" in chunks[0].text and "洗碗机" in chunks[1].text
    assert [c.key for c in chunks] == ["product_care.md#0", "product_care.md#1"]


def test_long_sections_split_at_sentence_ends_within_the_limit():
    sentence = "这是一句比较长的说明文字，用来测试切分。"
    document = Document("long.md", "长文", "# 长文\n\n## 一节\n\n" + sentence * 40)
    chunks = chunk_document(document, max_chars=100)
    assert len(chunks) > 5
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == sentence * 40


def test_a_run_on_sentence_is_cut_hard():
    document = Document("x.md", "X", "# X\n\n" + "没有标点" * 100)
    chunks = chunk_document(document, max_chars=50)
    assert all(len(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == "没有标点" * 100
