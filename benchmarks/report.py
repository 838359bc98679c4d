"""benchmarks/REPORT.md and its plots (PNG, matplotlib) from the results of ``make bench``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RECIPE_NOTES = HERE / "recipe.md"
SYSTEM_NAMES = {
    "ours": "ours (config.yml pipeline)",
    "rasa_default": "Rasa default (`rasa init`, language en, DIET)",
    "tfidf_svm": "char 1-4-gram TF-IDF + linear SVM",
}


def _machine(section: dict[str, Any]) -> str:
    m = section.get("machine") or {}
    load = m.get("load_average_1_5_15")
    return f"{m.get('cpu', '?')}, {m.get('cpus', '?')} cores" + (f", load average {load[0]}" if load else "")


def _plot_bars(path: Path, title: str, groups: dict[str, dict[str, float]], ylabel: str) -> Path:
    """One group of bars per key of ``groups`` (e.g. a system), one bar per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(groups)
    metrics = list(next(iter(groups.values())))
    width = 0.8 / len(metrics)
    figure, axes = plt.subplots(figsize=(7 + len(metrics) * len(names) * 0.15, 3.8))
    for i, metric in enumerate(metrics):
        values = [groups[n].get(metric, 0.0) for n in names]
        bars = axes.bar([x + i * width for x in range(len(names))], values, width, label=metric)
        axes.bar_label(bars, fmt="%.3f", fontsize=6 if len(metrics) > 3 else 7)
    axes.set_xticks([x + width * (len(metrics) - 1) / 2 for x in range(len(names))])
    axes.set_xticklabels(names, fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _intents(results: dict[str, Any], plots: Path, lines: list[str]) -> None:
    section = results.get("intents")
    if not section:
        return
    lines += ["## Intent classification", ""]
    for name in ("smp2017", "shop"):
        entry = section.get(name)
        if entry is None:
            continue
        if "skipped" in entry:
            lines += [f"{name}: skipped ({entry['skipped']}).", ""]
            continue
        split = next(k for k in entry if k not in {"dataset", "published"})
        title = (
            "SMP2017-ECDT task 1, 31 intents"
            if name == "smp2017"
            else "Our shop's held-out NLU set, 16 intents"
        )
        lines += [f"**{title}**: {entry['dataset']}, split `{split}`; machine: {_machine(section)}.", ""]
        lines += [
            "| system | accuracy | macro-F1 | training (s) | training peak RSS (MB) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for system, r in entry[split].items():
            label = SYSTEM_NAMES.get(system, system)
            lines.append(
                f"| {label} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['train_seconds']} | "
                f"{r['train_peak_rss_mb']} |"
            )
        if "published" in entry:
            lines.append(f"\nPublished: {entry['published']}.")
        png = _plot_bars(
            plots / f"intents_{name}.png",
            f"{title} ({split})",
            {s: {"accuracy": r["accuracy"], "macro-F1": r["macro_f1"]} for s, r in entry[split].items()},
            "score",
        )
        lines += ["", f"![{name}](plots/{png.name})", ""]
    lines += [
        "Training time is the wall time of the training process (Rasa: `rasa train nlu`, "
        "including loading and featurising; ours embeds every example with e5); peak RSS is "
        "that process's maximum resident memory.",
        "",
    ]


def _faq(results: dict[str, Any], plots: Path, lines: list[str]) -> None:
    section = results.get("faq")
    if not section:
        return
    lines += [
        "## FAQ answering",
        "",
        f"{section['dataset']}, {section['questions']} questions, split `{section['split']}`; "
        f"embedder {section['embedder']}; machine: {_machine(section)}.",
        "",
        "| system | top-1 | notes |",
        "| --- | --- | --- |",
    ]
    ours = section["ours"]
    lines.append(
        f"| ours (KnowledgeService.answer) | {ours['top1_accuracy']:.3f} | "
        f"answers {ours['answered_share']:.1%}"
        f" (threshold {ours['threshold']}), wrong answers {ours['wrong_answer_share']:.1%}; best FAQ topic "
        f"without threshold {ours['best_faq_topic_top1_no_threshold']:.3f} |"
    )
    naive = section["naive_cosine"]
    lines.append(
        f"| naive cosine (e5, every FAQ question) | {naive['top1_accuracy']:.3f} | "
        f"{naive['faq_questions']} questions, no threshold: always answers |"
    )
    bot = section["chatterbot"]
    if "skipped" in bot:
        lines.append(f"| ChatterBot | - | {bot['skipped']} |")
    else:
        lines.append(
            f"| ChatterBot ({bot['version']}) | {bot['top1_accuracy']:.3f} | replied with an FAQ answer "
            f"{bot['replied_with_an_answer_share']:.1%}; tagger {bot['tagger']} |"
        )
    bars = {"ours": {"top-1": ours["top1_accuracy"]}, "naive cosine": {"top-1": naive["top1_accuracy"]}}
    if "skipped" not in bot:
        bars["ChatterBot"] = {"top-1": bot["top1_accuracy"]}
    png = _plot_bars(plots / "faq.png", "FAQ answering, held-out paraphrases", bars, "top-1")
    lines += [
        "",
        f"Our answer path picks the FAQ topic by retrieval plus a topic classifier trained on the FAQ's own "
        f"wordings; ranking topics alone, without the threshold, it gets "
        f"{ours['best_faq_topic_top1_no_threshold']:.3f}. Below its threshold it says it is not sure and "
        f"offers a human ({1 - ours['answered_share']:.1%} of these questions) instead of guessing: it gives "
        f"a wrong "
        f"answer to {ours['wrong_answer_share']:.1%} of them, the naive cosine, which always answers, to "
        f"{1 - naive['top1_accuracy']:.1%}. ChatterBot's BestMatch compares strings by edit "
        "distance and often replies with a stored question rather than an answer.",
        "",
        f"![faq](plots/{png.name})",
        "",
    ]
    docs = section.get("documents")
    if docs:
        grid = docs["selection"]["grid"]
        lines += [
            f"Long-tail questions answered by the shop's documents rather than the FAQ ({docs['dataset']}, "
            f"{docs['questions']} questions): the expected fact is in the answer for "
            f"{docs['held_out_facts']:.1%}. A FAQ answer carries the best document passage as a supplement "
            f"by the rule `{docs['chosen']}`, chosen on {docs['selection']['dataset']} as the best "
            "difference between the two shares below; with it, "
            f"{ours.get('supplemented_share', 0):.1%} of the FAQ answers to the held-out paraphrases carry a "
            "passage. The five best settings, and the one used before:",
            "",
            "| passage rule | selection questions with the fact | FAQ examples given a passage |",
            "| --- | --- | --- |",
            *[
                f"| {name} | {r['selection_facts']:.1%} | {r['nlu_faq_supplemented']:.1%} |"
                for name, r in list(grid.items())[:5]
            ],
        ]
        before = grid.get("min 0.45, margin 0.15")
        if before:
            lines.append(
                f"| min 0.45, margin 0.15 (before) | {before['selection_facts']:.1%} | "
                f"{before['nlu_faq_supplemented']:.1%} |"
            )
        lines.append("")


def _oos(results: dict[str, Any], plots: Path, lines: list[str]) -> None:
    section = results.get("oos")
    if not section:
        return
    lines += [
        "## Out-of-scope detection",
        "",
        "Threshold on the classifier's confidence, chosen by 5-fold cross-validation on the held-out "
        "set (maximising in-scope accuracy + OOS recall on four fifths, applied to the fifth); "
        f"machine: {_machine(section)}.",
        "",
    ]
    shop = section["shop"]
    lines += [
        "| data | system | in-scope accuracy | OOS recall | threshold | without threshold (in-scope / OOS) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows = []
    if "skipped" not in shop:
        rows.append(("shop held-out", "ours", shop["ours"]))
    hint = section["hint3"]
    for bot in ("sofmattress", "curekart", "powerplay11"):
        for system, r in hint.get(bot, {}).items():
            rows.append((f"HINT3 {bot} test", system, r))
    for data, system, r in rows:
        lines.append(
            f"| {data} | {system} | {r['in_scope_accuracy']:.3f} | {r['oos_recall']:.3f} | "
            f"{r['threshold_mean']} | {r['in_scope_accuracy_no_threshold']:.3f} / "
            f"{r['oos_recall_no_threshold']:.3f} |"
        )
    if "published_rasa_diet_in_scope_accuracy" in hint:
        published = ", ".join(
            f"{b} {v:.3f}" for b, v in hint["published_rasa_diet_in_scope_accuracy"].items()
        )
        lines.append(
            f"\nPublished Rasa DIET in-scope accuracy on HINT3 v1 (its README): {published}; the threshold "
            "behind those figures is not stated there, so compare them with both of our columns: without "
            "a threshold every in-scope query gets an intent, with the CV threshold some are rejected "
            "in exchange for the OOS recall shown."
        )
        bars: dict[str, dict[str, float]] = {}
        for bot in ("sofmattress", "curekart", "powerplay11"):
            for system, r in hint.get(bot, {}).items():
                bars.setdefault(bot, {})[f"{system}, no threshold"] = r["in_scope_accuracy_no_threshold"]
                bars[bot][f"{system}, CV threshold"] = r["in_scope_accuracy"]
        for bot, value in hint["published_rasa_diet_in_scope_accuracy"].items():
            if bot in bars:
                bars[bot]["published DIET"] = value
        if bars:
            png = _plot_bars(plots / "hint3.png", "HINT3 v1 in-scope accuracy", bars, "accuracy")
            lines += ["", f"![hint3](plots/{png.name})"]
    elif "skipped" in hint:
        lines.append(f"\nHINT3: skipped ({hint['skipped']}).")
    lines.append("")


def _knowledge(results: dict[str, Any], lines: list[str]) -> None:
    section = results.get("knowledge")
    if not section:
        return
    faq = section["faq_retrieval"]
    lines += [
        "## Knowledge retrieval and question matching",
        "",
        f"FAQ retrieval, {faq['dataset']}, {faq['questions']} questions (FAQ units only, no threshold); "
        f"machine: {_machine(section) if 'machine' in section else 'this machine, 2 cores, an earlier run'}.",
        "",
        "| backend | top-1 | MRR |",
        "| --- | --- | --- |",
    ]
    for name in ("lexical", "dense", "hybrid"):
        lines.append(f"| {name} | {faq[name]['top1_accuracy']:.3f} | {faq[name]['mrr']:.3f} |")
    chosen = faq.get("hybrid_with_topic_classifier")
    if chosen:
        lines.append(
            f"| hybrid + {chosen['classifier_weight']:g} x topic classifier (the assistant's choice) | "
            f"{chosen['top1_accuracy']:.3f} | {chosen['mrr']:.3f} |"
        )
        selection = faq["topic_selection"]
        lines += [
            "",
            "The topic classifier's settings and weight were chosen by 5-fold cross-validation over the "
            f"FAQ's own {faq['faq_units']} questions and alternatives (top-1): retrieval alone "
            f"{selection['retrieval alone']:.3f}; the five best settings:",
            "",
            "| setting | CV top-1 |",
            "| --- | --- |",
            *[f"| {name} | {value:.3f} |" for name, value in list(selection.items())[:5]],
        ]
        setting = chosen["classifier"]
        name = (
            f"retrieval + {chosen['classifier_weight']:g} x classifier(C={setting['C']:g}, "
            f"e5 x{setting['dense_weight']:g})"
        )
        if name in selection:
            lines += [
                "",
                f"The assistant uses {name}: CV {selection[name]:.3f}. The grid is flat at the top (its "
                "best settings differ by a question or two of the 751), so the setting at its centre was "
                "kept rather than the single best.",
            ]
    match = section.get("afqmc", {})
    if "ours" in match:
        lines += [
            "",
            f"AFQMC question matching, {match['dataset']}, {match['pairs']} pairs, threshold by 5-fold CV:",
            "",
            "| system | accuracy |",
            "| --- | --- |",
        ]
        for name, r in match["ours"].items():
            lines.append(f"| ours {name} | {r['accuracy']:.3f} |")
        for name, accuracy in match["published_accuracy"].items():
            lines.append(f"| published {name} | {accuracy:.3f} |")
    lines.append("")


def _serving(results: dict[str, Any], plots: Path, lines: list[str]) -> None:
    section = results.get("serving")
    if not section or "vanilla" not in section:
        return
    from benchmarks.serving import CONCURRENCY, OURS_SYSTEMS, rows

    stack = section.get("ours", {}).get("stack", {})
    lines += [
        "## Serving under load",
        "",
        f"REST round trip of one message, {section['messages_per_level']} messages per level, a new "
        f"conversation every {section['turns_per_conversation']} turns; a reply without the expected answer "
        "counts as an error. vanilla is the `rasa init` bot (stock `rasa run`, in-memory tracker, no action "
        "server, one process); ours the full assistant in production: "
        f"{stack.get('rasa_processes', '?')} Rasa processes on one port, Redis stores, RabbitMQ, MariaDB, "
        "its action server; ours_embedded the same assistant on the embedded defaults (`make run`). "
        f"Machine: {_machine(section)}.",
        "",
        "| system | turn | clients | msg/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | Rasa RSS (MB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    series: dict[str, tuple[list[float], list[float]]] = {}
    for name, kind, levels in rows(section):
        p50s, p99s = [], []
        for concurrency in CONCURRENCY:
            r = levels[f"concurrency_{concurrency}"]
            lines.append(
                f"| {name} | {kind} | {concurrency} | {r['throughput']} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['errors']} | {r['memory']['rasa']['rss_mb']} |"
            )
            p50s.append(r["p50_ms"])
            p99s.append(r["p99_ms"])
        series[f"{name} {kind}"] = (p50s, p99s)
    lines.append("")
    for name in ("vanilla", *OURS_SYSTEMS):
        if name not in section:
            continue
        long = section[name]["turn_5_vs_150"]
        memory = ", ".join(f"{p} {m['rss_mb']} MB" for p, m in section[name]["memory"].items())
        lines.append(
            f"- {name}: turn 5 {long['turn_5_ms']} ms, turn 150 {long['turn_150_ms']} ms of one "
            f"conversation ({long['ratio']}x, medians of turns 3-7 and 148-152); resident memory after "
            f"the run (all processes): {memory}."
        )
    for kind in ("faq", "order", "form"):
        stored = section.get(kind, {}).get("ours", {}).get("stored_conversations")
        if stored:
            lines.append(
                f"- ours {kind} at 32 customers, read back from Redis: {stored['complete']} of "
                f"{stored['checked']} conversations complete (every message stored once, in the order sent, "
                "each answered)."
            )
    goals = section.get("goals")
    if goals:
        lines += [
            "",
            "| goal (ours against vanilla; FAQ turn unless named) | this run | goal | met |",
            "| --- | --- | --- | --- |",
        ]
        for name, goal in goals.items():
            lines.append(f"| {name} | {goal['value']} | {goal['goal']} | {'yes' if goal['met'] else 'no'} |")
    png = _plot_latency(plots / "serving.png", list(CONCURRENCY), series)
    lines += ["", f"![serving](plots/{png.name})", ""]


def _plot_latency(
    path: Path, concurrency: list[int], series: dict[str, tuple[list[float], list[float]]]
) -> Path:
    """p50 (solid) and p99 (dashed) latency against the number of concurrent customers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 4))
    for label, (p50s, p99s) in series.items():
        (line,) = axes.plot(concurrency, p50s, marker="o", label=f"{label} p50")
        axes.plot(concurrency, p99s, marker="s", linestyle="--", color=line.get_color(), label=f"{label} p99")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(concurrency)
    axes.set_xticklabels([str(c) for c in concurrency])
    axes.set_xlabel("concurrent customers")
    axes.set_ylabel("latency (ms)")
    axes.set_title("REST latency against concurrency", fontsize=10)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _presales(results: dict[str, Any], lines: list[str]) -> None:
    section = results.get("presales")
    if not section:
        return
    lines += [
        "## Pre-sales questions (product catalog)",
        "",
        f"{section['questions']} held-out questions ({section['dataset']}), answered by the catalog service "
        "over the seeded demo catalog; right when the answer contains every `must_contain` fact. "
        f"Overall {section['accuracy']:.3f}; made-up answers to the {section['unanswerable_questions']} "
        f"questions the catalog can't answer: {section['made_up_share']:.3f} (goal 0).",
        "",
        "| kind | questions | accuracy |",
        "| --- | --- | --- |",
    ]
    for kind, figures in section["accuracy_by_kind"].items():
        lines.append(f"| {kind} | {figures['questions']} | {figures['accuracy']:.3f} |")
    if "second_set" in section:
        second = section["second_set"]
        lines += [
            "",
            f"A second held-out set ({second['dataset']}, {second['questions']} questions, written later and "
            f"never used to choose anything): overall {second['accuracy']:.3f}, made-up answers "
            f"{second['made_up_share']:.3f} of {second['unanswerable_questions']}.",
        ]
    if "nlu_routed" in section:
        routed = section["nlu_routed"]
        lines += [
            "",
            f"The NLU sends {routed['share']:.3f} of the {routed['questions']} stand-alone questions to the "
            "product action (ask_product, recommend_product or compare_products).",
        ]
    lines.append("")


def write_report(results: dict[str, Any], out: Path) -> Path:
    """Writes ``out/REPORT.md`` (and ``out/plots/*.png``); returns the report's path."""
    plots = out / "plots"
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results.get('measured_at', '?')} by `make bench` (`python -m benchmarks.run`); every "
        "figure below is in `benchmarks/results.json`, with its dataset, split and machine. External data "
        "(SMP2017, AFQMC, HINT3) is read from `../shared/benchmarks` at run time, never copied here.",
        "",
    ]
    _intents(results, plots, lines)
    if RECIPE_NOTES.exists():
        lines += [RECIPE_NOTES.read_text(encoding="utf-8").strip(), ""]
    _faq(results, plots, lines)
    _oos(results, plots, lines)
    _knowledge(results, lines)
    _presales(results, lines)
    _serving(results, plots, lines)
    report = out / "REPORT.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
