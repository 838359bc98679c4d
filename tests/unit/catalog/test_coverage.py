"""Facts that come near a question without answering it are not passed off as the answer."""

from __future__ import annotations

from kefu.catalog.coverage import leaves_open, triggers

BLUETOOTH = [("蓝牙", "5.3")]
LINER = [("内胆", "陶晶不粘")]


def test_a_measure_question_needs_a_number_in_the_facts():
    assert leaves_open("内胆多厚", LINER)
    assert not leaves_open("续航多久", [("续航", "单次6小时")])


def test_a_yes_no_question_about_something_the_facts_do_not_mention():
    assert leaves_open("支持双设备连接吗", BLUETOOTH)
    assert leaves_open("有没有添加防腐剂", [("主要成分", "鸭肉、红薯")])


def test_the_word_the_facts_were_found_by_answers_the_question():
    assert not leaves_open("能游泳吗", [("防水", "5ATM，可游泳佩戴")])
    assert not leaves_open("能冲马桶吗", [("可冲厕所", "是")])  # 冲马桶 is how 可冲厕所 is asked
    assert not leaves_open("能带上飞机吗", [("容量", "20000毫安时，可以带上飞机")])


def test_a_verb_of_wearing_around_the_word_leaves_nothing_open():
    assert not leaves_open("能戴着游泳吗", [("防水", "5ATM，可游泳佩戴")])
    assert not leaves_open("可以穿着洗澡吗", [("防水", "IPX7，可洗澡")])
    assert leaves_open("可以戴着跑马拉松吗", [("防水", "5ATM，可游泳佩戴")])


def test_questions_that_are_not_yes_no_or_measures_stay_answered():
    assert not leaves_open("是什么材质", [("材质", "316不锈钢")])
    assert triggers("能连电脑吗") == ["连电脑"]
