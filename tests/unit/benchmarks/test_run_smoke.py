"""`python -m benchmarks.run --smoke` end to end on a tiny data set made here (under a minute)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = {
    "weather": ["北京明天天气怎么样", "上海今天下雨吗", "明天会不会下雪", "广州气温多少度", "后天有大风吗",
                "杭州周末天气", "今天要带伞吗", "深圳明天晴天吗"],
    "music": ["播放周杰伦的歌", "来一首轻音乐", "我想听摇滚", "放一首情歌", "播放稻香", "来点钢琴曲",
              "听一下流行歌曲", "放首儿歌"],
    "flight": ["订一张去北京的机票", "明天飞上海的航班", "查一下广州到成都的飞机", "后天去深圳的机票",
               "有没有去三亚的航班", "帮我买张飞杭州的机票", "查询飞西安的航班", "去重庆的飞机几点"],
}  # fmt: skip


def _tiny_benchmarks(folder: Path) -> Path:
    smp = folder / "smp2017"
    smp.mkdir(parents=True)
    for split, part in (("train", slice(0, 6)), ("develop", slice(6, 8))):
        rows = [f"{text}\t{label}" for label, texts in EXAMPLES.items() for text in texts[part]]
        (smp / f"{split}.tsv").write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_smoke_run_writes_results_report_and_plots(tmp_path: Path) -> None:
    data = _tiny_benchmarks(tmp_path / "shared")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--data-dir", str(data), "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    develop = results["intents"]["smp2017"]["develop"]
    assert set(develop) == {"ours", "tfidf_svm"}
    for figures in develop.values():
        assert figures["examples"] == 6
        assert 0.0 <= figures["accuracy"] <= 1.0 and 0.0 <= figures["macro_f1"] <= 1.0
        assert figures["train_seconds"] > 0 and figures["train_peak_rss_mb"] > 50
    # Three well separated intents: our pipeline gets most of the unseen wordings right.
    assert develop["ours"]["accuracy"] >= 0.5
    assert results["intents"]["machine"]["cpus"]
    faq = results["faq"]
    assert 0.0 <= faq["ours"]["top1_accuracy"] <= 1.0 and faq["questions"] == 30
    # Smoke runs install nothing: ChatterBot runs only when an earlier `make bench` installed it.
    assert "skipped" in faq["chatterbot"] or 0.0 <= faq["chatterbot"]["top1_accuracy"] <= 1.0
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "SMP2017" in report and "| ours (config.yml pipeline) |" in report
    assert (out / "plots" / "intents_smp2017.png").stat().st_size > 1000
    assert not (ROOT / "benchmarks" / "results.json").samefile(out / "results.json")
