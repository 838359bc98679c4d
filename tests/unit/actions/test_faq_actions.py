from actions.faq_actions import ActionAnswerFaq
from kefu.knowledge.service import KnowledgeAnswer
from kefu.settings import get_settings
from tests.unit.actions.conftest import make_tracker


class FakeKnowledge:
    def __init__(self, answer):
        self._answer = answer
        self.questions = []
        self.min_scores = []

    def answer(self, question, min_score=None):
        self.questions.append(question)
        self.min_scores.append(min_score)
        return self._answer


async def test_answers_with_the_faq_text_and_its_source(dispatcher):
    knowledge = FakeKnowledge(
        KnowledgeAnswer("满99元包邮，不满收8元。", 0.9, "faq", "shipping_fee", "运费怎么算")
    )
    events = await ActionAnswerFaq(lambda: knowledge).run(dispatcher, make_tracker("邮费多少"), {})
    assert events == []
    assert knowledge.questions == ["邮费多少"]
    [message] = dispatcher.messages
    assert message["text"] == "满99元包邮，不满收8元。"
    assert message["custom"]["source"] == {
        "type": "faq",
        "id": "shipping_fee",
        "title": "运费怎么算",
        "score": 0.9,
    }


async def test_a_document_answer_names_the_document(dispatcher):
    knowledge = FakeKnowledge(
        KnowledgeAnswer("羽绒服不要机洗。", 0.7, "document", "care.md#0", "商品保养指南")
    )
    await ActionAnswerFaq(lambda: knowledge).run(dispatcher, make_tracker("羽绒服能机洗吗"), {})
    assert dispatcher.messages[0]["text"].endswith("（以上内容摘自《商品保养指南》）")


async def test_not_sure_below_the_threshold(dispatcher):
    await ActionAnswerFaq(lambda: FakeKnowledge(None)).run(dispatcher, make_tracker("火星上有快递吗"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_not_sure"]


async def test_a_message_the_nlu_was_unsure_about_needs_a_stricter_match(dispatcher):
    knowledge = FakeKnowledge(None)
    await ActionAnswerFaq(lambda: knowledge).run(
        dispatcher, make_tracker("嗯嗯啊", intent="nlu_fallback"), {}
    )
    await ActionAnswerFaq(lambda: knowledge).run(dispatcher, make_tracker("运费", intent="faq"), {})
    assert knowledge.min_scores == [get_settings().kb_fallback_threshold, None]


async def test_a_faq_answer_with_a_supplement_quotes_the_document(dispatcher):
    doc = KnowledgeAnswer("密码连续输错5次锁定30分钟。", 0.6, "document", "account.md#2", "账户与隐私")
    faq = KnowledgeAnswer("在登录页点击忘记密码。", 0.7, "faq", "password_reset", "忘记密码怎么办", doc)
    await ActionAnswerFaq(lambda: FakeKnowledge(faq)).run(dispatcher, make_tracker("密码输错会锁吗"), {})
    text = dispatcher.messages[0]["text"]
    assert text.startswith("在登录页点击忘记密码。")
    assert "补充说明：密码连续输错5次锁定30分钟。" in text and "《账户与隐私》" in text
