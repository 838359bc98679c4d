import pytest

from kefu.context import ContextRule, rewrite_intent

ORDER_QUESTIONS = ["query_order", "query_logistics"]
RULES = [
    ContextRule.from_config(
        {"after": ORDER_QUESTIONS, "keywords": ["申请退款"], "rewrite_to": "apply_refund"}
    ),
    ContextRule.from_config(
        {"after": ORDER_QUESTIONS, "keywords": ["退款", "退钱"], "rewrite_to": "query_refund"}
    ),
]


def test_a_rule_is_read_from_its_config():
    rule = ContextRule.from_config({"after": ["a", "b"], "keywords": ["x"], "rewrite_to": "c"})
    assert rule == ContextRule(frozenset({"a", "b"}), ("x",), "c")


@pytest.mark.parametrize(
    "raw", [{"after": ["a"], "keywords": ["x"]}, {"after": 1, "keywords": ["x"], "rewrite_to": "c"}]
)
def test_an_incomplete_rule_names_what_it_needs(raw):
    with pytest.raises(ValueError, match="needs `after`"):
        ContextRule.from_config(raw)


def test_a_short_follow_up_is_rewritten_by_the_first_matching_rule():
    assert rewrite_intent(RULES, "query_order", "faq", "那退款呢", 12) == "query_refund"
    assert rewrite_intent(RULES, "query_logistics", "faq", "我要申请退款", 12) == "apply_refund"


def test_full_width_text_is_normalised_before_matching():
    assert rewrite_intent(RULES, "query_order", "faq", "  那退钱呢？ ", 6) == "query_refund"


@pytest.mark.parametrize(
    ("previous", "text", "max_chars"),
    [
        (None, "那退款呢", 12),  # no earlier message
        ("greet", "那退款呢", 12),  # not after an order question
        ("query_order", "那运费呢", 12),  # no keyword
        ("query_order", "那退款呢", 3),  # too long to be a follow-up
        ("query_order", "LT2026110103 退款呢", 30),  # names an order of its own
    ],
)
def test_other_messages_keep_their_intent(previous, text, max_chars):
    assert rewrite_intent(RULES, previous, "faq", text, max_chars) == "faq"
