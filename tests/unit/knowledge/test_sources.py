import pytest

from kefu.knowledge.sources import KnowledgeSourceError, load_faq, load_sources


def test_loads_faq_and_documents(knowledge_dir):
    sources = load_sources(knowledge_dir)
    assert [e.topic for e in sources.faq] == ["shipping_fee", "invoice"]
    assert sources.faq[0].questions == ("运费怎么算", "邮费多少钱", "多少钱包邮", "快递费怎么收")
    assert [(d.name, d.title) for d in sources.documents] == [("product_care.md", "商品保养指南")]


def test_content_hash_changes_with_the_answer(knowledge_dir):
    entry = load_sources(knowledge_dir).faq[0]
    edited = type(entry)(entry.topic, entry.question, entry.answer + "！", entry.tags, entry.alternatives)
    assert edited.content_hash != entry.content_hash


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("faq: [1, 2", "not valid YAML"),
        ("topics: []", "top-level `faq:`"),
        ("faq:\n  - id: a\n    question: q", "are all required"),
        ("faq:\n  - {id: a, question: q, answer: x}\n  - {id: a, question: q2, answer: y}", "duplicate id"),
    ],
)
def test_malformed_faq_names_the_problem(tmp_path, text, complaint):
    path = tmp_path / "faq.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeSourceError, match=complaint):
        load_faq(path)


def test_missing_faq_file_names_the_setting(tmp_path):
    with pytest.raises(KnowledgeSourceError, match="KB_DIR"):
        load_sources(tmp_path)
