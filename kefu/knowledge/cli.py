"""Knowledge base command line: import the sources into the SQL FAQ table and the index, search.

python -m kefu.knowledge.cli import             # first import (same as update)
python -m kefu.knowledge.cli update             # embed what changed, delete what was removed
python -m kefu.knowledge.cli rebuild            # forget every stored vector, embed everything again
python -m kefu.knowledge.cli search 运费怎么算    # what the assistant would answer, and why

``import``/``update``/``rebuild`` sync the ``faq`` table of ``DATABASE_URL`` (``--no-db`` skips
it) and the index in ``KB_INDEX_DIR`` from ``KB_DIR``; a running assistant picks the new index up
on its next question.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from kefu.knowledge.sources import FaqEntry, KnowledgeSourceError
from kefu.knowledge.store import IndexUnavailableError, UpdateReport, update_index
from kefu.settings import SettingsError


class OperatorError(RuntimeError):
    """Something the operator has to fix; the message says what."""


def _sync_faq(url: str):
    from sqlalchemy.engine import make_url

    from kefu.db.faq import FaqRepository

    repository = FaqRepository(url)
    where = make_url(url).render_as_string(hide_password=True)

    def sync(entries: Sequence[FaqEntry]) -> dict[str, int]:
        from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

        try:
            return {change.value: count for change, count in repository.sync(entries).items()}
        except (OperationalError, ProgrammingError) as exc:
            reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
            if "faq" in reason and (
                "no such table" in reason or "doesn't exist" in reason or "does not exist" in reason
            ):
                raise OperatorError(
                    f"the database {where} has no faq table; create it with `make db` "
                    "(python -m kefu.db.seed) first"
                ) from exc
            raise OperatorError(f"the database {where} refused the FAQ import: {reason}") from exc
        except SQLAlchemyError as exc:
            raise OperatorError(f"the FAQ import into {where} failed: {exc}") from exc

    return sync


def update(rebuild: bool = False, use_db: bool = True, progress: bool = True) -> UpdateReport:
    from kefu.knowledge.embeddings import get_embedder
    from kefu.settings import get_settings

    settings = get_settings()
    try:
        embedder = get_embedder(settings.kb_embedder, threads=os.cpu_count())  # a batch job: every core
    except Exception as exc:  # the embedder's own errors: a missing package, an unreadable model
        raise OperatorError(f"KB_EMBEDDER={settings.kb_embedder!r} can't be loaded: {exc}") from exc
    return update_index(
        settings.knowledge_dir,
        settings.index_dir,
        embedder,
        sync_faq=_sync_faq(settings.database_url) if use_db else None,
        rebuild=rebuild,
        progress=progress,
    )


def search(question: str, top: int) -> None:
    from kefu.knowledge.service import get_knowledge_service

    service = get_knowledge_service()
    answer = service.answer(question)
    if answer is None:
        print(f"(below the threshold {service.threshold}: the assistant would say it is not sure)")
    else:
        print(f"[{answer.source_type}:{answer.source_id} score={answer.score:.3f}] {answer.text}")
    for hit in service.index.score(question)[:top]:
        scores = f"{hit.score:.3f} (lex {hit.lexical:.3f}, dense {hit.dense:.3f})"
        print(f"  {scores} {hit.unit.kind}:{hit.unit.key} {hit.unit.text[:40]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kefu.knowledge.cli", description="The shop's knowledge base"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("import", "import the sources into the SQL FAQ table and the index"),
        ("update", "re-import: embed only what changed, delete what was removed"),
        ("rebuild", "forget every stored vector and embed everything again"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--no-db", action="store_true", help="leave the SQL FAQ table alone")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    find = commands.add_parser("search", help="show the answer and the best passages for a question")
    find.add_argument("question")
    find.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        if args.command == "search":
            search(args.question, args.top)
        else:
            report = update(rebuild=args.command == "rebuild", use_db=not args.no_db, progress=not args.quiet)
            print(report.describe())
    except (KnowledgeSourceError, IndexUnavailableError, OperatorError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
