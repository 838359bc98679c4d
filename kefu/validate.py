"""``rasa data validate`` where every warning is a failure, with one principled exception.

Rasa 3.6 warns that a response "is not used in any story or rule" when only a custom action or
a form utters it: it cannot see inside actions, nor a form's ``utter_ask_<form>_<slot>``. Those
warnings are dropped for responses that the action code really names (checked by reading
``actions/*.py``) and for the ask responses of the domain's forms; so are the warnings that
``rasa`` itself silences (``rasa.utils.common.EXPECTED_WARNINGS``). Every other warning fails.

    python -m kefu.validate
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any

from kefu.runtime.patches import disable_phone_home

ROOT = Path(__file__).resolve().parent.parent
_UNUSED_RESPONSE = re.compile(r"The utterance '([^']+)' is not used in any story or rule")


def responses_named_in_actions(actions_dir: Path) -> set[str]:
    """Every ``utter_...`` name quoted in the action modules."""
    names: set[str] = set()
    for path in actions_dir.glob("*.py"):
        names.update(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def form_ask_responses(forms: dict[str, Any]) -> set[str]:
    """The responses forms utter to ask for their slots."""
    names = set()
    for form, spec in forms.items():
        for slot in (spec or {}).get("required_slots") or []:
            names.update({f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"})
    return names


def unexplained(messages: list[str], used_elsewhere: set[str], expected: list[str]) -> list[str]:
    """The warnings left once responses uttered by actions or forms and Rasa's own noise are gone."""
    left = []
    for message in messages:
        match = _UNUSED_RESPONSE.search(message)
        if match and match.group(1) in used_elsewhere:
            continue
        if any(re.match(pattern, message) for pattern in expected):
            continue
        left.append(message)
    return left


def main() -> int:
    disable_phone_home()
    from rasa.cli.utils import validate_files
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS

    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_files(fail_on_warnings=False, max_history=None, importer=importer)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    used = responses_named_in_actions(ROOT / "actions") | form_ask_responses(importer.get_domain().forms)
    expected = [pattern for category, pattern in EXPECTED_WARNINGS if issubclass(category, UserWarning)]
    left = unexplained(messages, used, expected)
    for message in left:
        print(f"WARNING: {message}", file=sys.stderr)
    print(
        f"rasa data validate: {len(messages)} warnings, {len(messages) - len(left)} "
        f"about responses uttered by actions or forms or silenced by rasa, {len(left)} left"
    )
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
