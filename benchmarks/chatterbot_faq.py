"""ChatterBot on the shop's FAQ, run with a ChatterBot virtualenv's Python (no project imports).

python chatterbot_faq.py IN.json OUT.json
IN: {"faq": [{"topic", "questions": [...], "answer"}], "questions": [...]}; OUT: {"answers": [...]}.
Trained as ChatterBot's documentation shows (ListTrainer, every question followed by its answer),
default logic adapter (BestMatch). Its default tagger needs a spaCy model downloaded from outside
the package registries, so the bot runs with ChatterBot's own LowercaseTagger (spaCy blank "zh").
"""

import json
import sys
import tempfile
import time
from pathlib import Path


def main(source: str, target: str) -> int:
    from chatterbot import ChatBot, languages
    from chatterbot.tagging import LowercaseTagger
    from chatterbot.trainers import ListTrainer

    data = json.loads(Path(source).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        bot = ChatBot(
            "kefu-bench",
            database_uri=f"sqlite:///{tmp}/bot.sqlite3",
            read_only=True,
            tagger=LowercaseTagger,
            tagger_language=languages.CHI,
        )
        trainer = ListTrainer(bot, show_training_progress=False)
        started = time.perf_counter()
        for entry in data["faq"]:
            for question in entry["questions"]:
                trainer.train([question, entry["answer"]])
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        answers = [str(bot.get_response(question)) for question in data["questions"]]
        answer_seconds = time.perf_counter() - started
    Path(target).write_text(
        json.dumps(
            {
                "answers": answers,
                "train_seconds": round(train_seconds, 1),
                "answer_seconds": round(answer_seconds, 1),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
