import yaml

from kefu.validate import ROOT, form_ask_responses, responses_named_in_actions, unexplained

UNUSED = "The utterance '{}' is not used in any story or rule."


def test_finds_the_responses_quoted_in_action_modules(tmp_path):
    (tmp_path / "a.py").write_text(
        'dispatcher.utter_message(response="utter_order_status")\n', encoding="utf-8"
    )
    (tmp_path / "b.py").write_text(
        "X = 'utter_ask_phone'  # and utter_not_quoted\nY = 'utter_Upper'\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("'utter_in_text_file'", encoding="utf-8")
    assert responses_named_in_actions(tmp_path) == {"utter_order_status", "utter_ask_phone"}


def test_the_responses_the_project_actions_name_are_in_the_domain():
    named = responses_named_in_actions(ROOT / "actions")
    responses = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"])
    assert named
    assert named <= responses


def test_form_ask_responses_cover_both_spellings():
    forms = {"order_form": {"required_slots": ["order_id", "phone"]}, "empty_form": None}
    assert form_ask_responses(forms) == {
        "utter_ask_order_form_order_id",
        "utter_ask_order_id",
        "utter_ask_order_form_phone",
        "utter_ask_phone",
    }


def test_only_unexplained_warnings_are_left():
    messages = [
        UNUSED.format("utter_order_status"),  # uttered by an action
        UNUSED.format("utter_forgotten"),  # really unused
        "Slot 'x' is not used in any form or action.",  # not about responses
        "Rasa's own noise about something",  # silenced by rasa
    ]
    left = unexplained(messages, {"utter_order_status"}, [r"Rasa's own noise"])
    assert left == [UNUSED.format("utter_forgotten"), "Slot 'x' is not used in any form or action."]


def test_silencing_patterns_match_from_the_start():
    assert unexplained(["prefix: Rasa's own noise"], set(), [r"Rasa's own noise"]) == [
        "prefix: Rasa's own noise"
    ]
