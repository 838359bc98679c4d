import pytest

from kefu.knowledge.lexical import Bm25Index, analyze

TEXTS = ["运费怎么算", "怎么开发票", "发票可以开公司抬头吗", "羽绒服可以机洗吗", "退货的运费谁出"]


def test_terms_are_jieba_words_and_optionally_marked_bigrams():
    assert analyze("羽绒服可以机洗吗", bigrams=False) == ["羽绒服", "可以", "机洗"]  # no particle
    with_bigrams = analyze("开发票", bigrams=True)
    assert "\x01开发" in with_bigrams and "\x01发票" in with_bigrams


def test_the_text_itself_scores_one_and_an_unrelated_query_zero():
    index = Bm25Index(TEXTS, bigrams=False)
    assert index.score("运费怎么算")[0] == pytest.approx(1.0)
    assert not index.score("今天天气晴朗").any()
    assert not index.score("").any()


def test_scores_are_normalised_and_rank_shared_rare_words_first():
    scores = Bm25Index(TEXTS, bigrams=False).score("退货的运费")
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores.argmax() == 4  # 退货 and 运费: both rare
    assert scores[4] > scores[0] > 0


def test_a_word_in_many_texts_weighs_less_than_a_rare_one():
    scores = Bm25Index(["可以退吗", "可以换吗", "可以改吗", "发票怎么开"], bigrams=False).score("可以发票")
    assert scores.argmax() == 3


def test_an_empty_index_scores_nothing():
    assert Bm25Index([]).score("运费").shape == (0,)
