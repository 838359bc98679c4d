"""Serving under load: vanilla Rasa (the ``rasa init`` bot) against our full assistant (issue 9).

``vanilla`` is Rasa 3.6's initial project, trained once into ``var/bench/vanilla/`` (keyed by the
Rasa version) and served by stock ``rasa run`` (in-memory tracker, no action server, telemetry off).
``ours`` is the trained assistant on the embedded defaults (in-memory stores, a throw-away SQLite
database) with its action server, like the ``memory`` mode of ``benchmarks/runtime.py``. Both
servers are started side by side and measured one after the other, so only one is under load.

For each system and turn kind (ours: an FAQ turn, an order-status turn of a logged-in customer, the
first turn of the refund form; vanilla: its greet / mood turns), at 1, 8 and 32 concurrent
customers (asyncio + aiohttp, each customer starts a new conversation every 10 turns, a fixed
number of messages per level): p50/p95/p99 of the REST round trip, throughput, errors, and the
resident memory of each server process afterwards. Then one customer talks for 152 turns in one
conversation: the median of turns 3-7 against turns 148-152.

python -m benchmarks.run --only serving
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.runtime import MODEL, ROOT, _free_port, _start, _wait

VANILLA_CACHE = ROOT / "var" / "bench" / "vanilla"
CONCURRENCY = (1, 8, 32)
MESSAGES_PER_LEVEL = 200
TURNS_PER_CONVERSATION = 10
LONG_CONVERSATION = 152  # turns 3-7 against turns 148-152
WARM_UP = 10
TOKEN_SECRET = "bench-serving-customer-token-secret-0123456789"
A_USER, AN_ORDER = "u1002", "LT2026110103"  # tests/e2e/test_orders.py: the customer's own order
VANILLA_TURNS = ["hello", "I am sad", "yes", "great", "bye"]
OURS_TURNS = {
    "faq": ["运费怎么算？"],
    "order": [f"查一下订单{AN_ORDER}"],
    "form": ["我要退款"],  # anonymous: asks for the order number
}
# Stock `rasa run` with telemetry and crash reporting off, and none of our endpoints installed.
VANILLA_SERVER = (
    "import sys; from kefu.rasa_cli import disable_phone_home; disable_phone_home(); "
    "from rasa.__main__ import main; sys.argv[0] = 'rasa'; main()"
)


def vanilla_model() -> Path:
    """The trained ``rasa init`` bot for the installed Rasa, trained on first use and cached."""
    import rasa

    model = VANILLA_CACHE / f"rasa-{rasa.__version__}.tar.gz"
    if model.exists():
        return model
    project = Path(tempfile.mkdtemp(prefix="kefu-bench-vanilla-")) / "bot"
    shutil.copytree(Path(rasa.__file__).parent / "cli" / "initial_project", project)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(
        [sys.executable, "-m", "kefu.rasa_cli", "train", "--out", "models", "--fixed-model-name", "vanilla"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    VANILLA_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy(project / "models" / "vanilla.tar.gz", model)
    shutil.copytree(
        project, VANILLA_CACHE / "project", ignore=shutil.ignore_patterns("models"), dirs_exist_ok=True
    )
    return model


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of one process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def _percentile(ordered: list[float], share: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1)


async def _say(http: Any, url: str, sender: str, text: str, metadata: dict | None) -> float | None:
    """One REST round trip in ms, None when it failed or the bot said nothing."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    start = time.perf_counter()
    try:
        async with http.post(url, json=body) as reply:
            messages = await reply.json() if reply.status == 200 else None
    except Exception:  # a failed turn is counted, not raised
        return None
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed if messages else None


async def load(url: str, turns: list[str], concurrency: int, metadata: dict | None = None) -> dict[str, Any]:
    """``MESSAGES_PER_LEVEL`` messages from ``concurrency`` customers talking at once."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    remaining = MESSAGES_PER_LEVEL

    async def customer(http: aiohttp.ClientSession) -> None:
        nonlocal remaining, errors
        turn, sender = 0, ""
        while remaining > 0:
            remaining -= 1
            if turn % TURNS_PER_CONVERSATION == 0:
                sender = f"bench-{uuid.uuid4().hex}"
            elapsed = await _say(http, url, sender, turns[turn % len(turns)], metadata)
            turn += 1
            if elapsed is None:
                errors += 1
            else:
                latencies.append(elapsed)

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        start = time.perf_counter()
        await asyncio.gather(*(customer(http) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    ordered = sorted(latencies) or [float("nan")]
    return {
        "messages": MESSAGES_PER_LEVEL,
        "errors": errors,
        "seconds": round(seconds, 2),
        "throughput": round(len(latencies) / seconds, 1),
        "p50_ms": _percentile(ordered, 0.5),
        "p95_ms": _percentile(ordered, 0.95),
        "p99_ms": _percentile(ordered, 0.99),
    }


async def long_conversation(url: str, turns: list[str], metadata: dict | None = None) -> dict[str, Any]:
    """One customer, one conversation of ``LONG_CONVERSATION`` turns: early against late turns."""
    import aiohttp

    sender = f"bench-long-{uuid.uuid4().hex}"
    latencies: list[float | None] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        for turn in range(LONG_CONVERSATION):
            latencies.append(await _say(http, url, sender, turns[turn % len(turns)], metadata))
    early = [x for x in latencies[2:7] if x is not None]
    late = [x for x in latencies[-5:] if x is not None]
    turn_5, turn_150 = statistics.median(early), statistics.median(late)
    return {
        "turn_5_ms": round(turn_5, 1),
        "turn_150_ms": round(turn_150, 1),
        "ratio": round(turn_150 / turn_5, 2),
        "errors": latencies.count(None),
    }


async def _measure(url: str, turns: list[str], metadata: dict | None, pids: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for concurrency in CONCURRENCY:
        result[f"concurrency_{concurrency}"] = await load(url, turns, concurrency, metadata)
        result[f"concurrency_{concurrency}"]["memory"] = {name: rss_mb(pid) for name, pid in pids.items()}
    return result


async def _warm_up(url: str, turns: list[str], metadata: dict | None) -> str:
    """A few conversations' worth of turns; returns the bot's reply to the first one (a sanity check)."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        sender = f"bench-warm-{uuid.uuid4().hex}"
        body: dict[str, Any] = {"sender": sender, "message": turns[0], "metadata": metadata or {}}
        async with http.post(url, json=body) as reply:
            first = " / ".join(m.get("text", "") for m in await reply.json())
        for turn in range(1, WARM_UP):
            await _say(http, url, sender, turns[turn % len(turns)], metadata)
    return first


def run() -> dict[str, Any]:
    from kefu.security.tokens import issue_customer_token

    vanilla = vanilla_model()
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-serving-"))
    action_port, ours_port, vanilla_port = _free_port(), _free_port(), _free_port()
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    ours_env = {
        **base,
        "DATABASE_URL": f"sqlite:///{work / 'kefu.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RABBITMQ_URL": "",
        "REDIS_URL": "",
        "ANALYTICS_SPOOL_PATH": str(work / "analytics-spool.sqlite3"),
        "CUSTOMER_TOKEN_SECRET": TOKEN_SECRET,
        # The benchmark sends faster than any customer, all from 127.0.0.1.
        **dict.fromkeys(("CHAT_RATE_PER_MINUTE", "SDK_RATE_PER_MINUTE"), "1000000"),
    }
    subprocess.run(
        [sys.executable, "-m", "kefu.db.seed"], cwd=ROOT, env=ours_env, check=True, capture_output=True
    )
    rasa_run = ["run", "--port"]
    ours_run = [sys.executable, "-m", "kefu.rasa_cli", *rasa_run]
    processes = {
        "ours_actions": _start(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            ours_env,
            work / "actions.log",
        ),
        "ours_rasa": _start(
            [*ours_run, str(ours_port), "--model", str(MODEL), "--endpoints", "endpoints.yml"],
            ours_env,
            work / "rasa-ours.log",
        ),
        "vanilla_rasa": subprocess.Popen(
            [sys.executable, "-c", VANILLA_SERVER, *rasa_run, str(vanilla_port), "--model", str(vanilla)],
            cwd=VANILLA_CACHE / "project" if (VANILLA_CACHE / "project").is_dir() else work,
            env=base,
            stdout=(work / "rasa-vanilla.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
    }
    result: dict[str, Any] = {}
    try:
        _wait(f"http://127.0.0.1:{action_port}/health", processes["ours_actions"])
        _wait(f"http://127.0.0.1:{ours_port}/", processes["ours_rasa"])
        _wait(f"http://127.0.0.1:{vanilla_port}/", processes["vanilla_rasa"])
        vanilla_url = f"http://127.0.0.1:{vanilla_port}/webhooks/rest/webhook"
        ours_url = f"http://127.0.0.1:{ours_port}/webhooks/rest/webhook"
        vanilla_pids = {"rasa": processes["vanilla_rasa"].pid}
        ours_pids = {"rasa": processes["ours_rasa"].pid, "actions": processes["ours_actions"].pid}
        metadata = {"order": {"user_token": issue_customer_token(A_USER, TOKEN_SECRET, ttl_seconds=7200)}}

        async def measure_all() -> None:
            first = await _warm_up(vanilla_url, VANILLA_TURNS, None)
            result["vanilla"] = await _measure(vanilla_url, VANILLA_TURNS, None, vanilla_pids)
            result["vanilla"]["turn_5_vs_150"] = await long_conversation(vanilla_url, VANILLA_TURNS)
            result["vanilla"]["memory"] = {name: rss_mb(pid) for name, pid in vanilla_pids.items()}
            result["vanilla"]["first_reply"] = first
            for kind, turns in OURS_TURNS.items():
                first = await _warm_up(ours_url, turns, metadata.get(kind))
                result[kind] = {"ours": await _measure(ours_url, turns, metadata.get(kind), ours_pids)}
                result[kind]["ours"]["first_reply"] = first
            result["ours"] = {
                "turn_5_vs_150": await long_conversation(ours_url, OURS_TURNS["faq"]),
                "memory": {name: rss_mb(pid) for name, pid in ours_pids.items()},
            }

        asyncio.run(measure_all())
    except RuntimeError:
        for log in work.glob("*.log"):
            sys.stderr.write(f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}\n")
        raise
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    result["messages_per_level"] = MESSAGES_PER_LEVEL
    result["turns_per_conversation"] = TURNS_PER_CONVERSATION
    result["vanilla_turns"] = VANILLA_TURNS
    result["ours_turns"] = {kind: turns[0] for kind, turns in OURS_TURNS.items()}
    return result


def rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(system, turn kind, figures of one concurrency level) for every measured level."""
    systems = [("vanilla", "greet/mood", result["vanilla"])]
    systems += [("ours", kind, result[kind]["ours"]) for kind in OURS_TURNS if kind in result]
    return systems


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{'system':<8} {'turn':<11} {'clients':>7} {'msg/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'errors':>6} {'rasa MB':>8}  (ms)"
    ]
    for name, kind, levels in rows(result):
        for concurrency in CONCURRENCY:
            r = levels[f"concurrency_{concurrency}"]
            lines.append(
                f"{name:<8} {kind:<11} {concurrency:>7} {r['throughput']:>7} {r['p50_ms']:>7} "
                f"{r['p95_ms']:>7} {r['p99_ms']:>7} {r['errors']:>6} {r['memory']['rasa']['rss_mb']:>8}"
            )
    for name in ("vanilla", "ours"):
        long = result[name]["turn_5_vs_150"]
        memory = ", ".join(
            f"{p} {m['rss_mb']} MB (peak {m['peak_rss_mb']})" for p, m in result[name]["memory"].items()
        )
        lines.append(
            f"{name}: turn 5 {long['turn_5_ms']} ms, turn 150 {long['turn_150_ms']} ms "
            f"({long['ratio']}x); memory after the run: {memory}"
        )
    return "\n".join(lines)
