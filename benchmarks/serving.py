"""Serving under load: vanilla Rasa (the ``rasa init`` bot) against our full assistant (issue 9).

``vanilla`` is Rasa 3.6's initial project, trained once into ``var/bench/vanilla/`` (keyed by the
Rasa version) and served by stock ``rasa run`` (in-memory tracker, no action server, telemetry off).
``ours`` is the trained assistant as a shop runs it in production: Redis tracker and lock stores,
RabbitMQ for Rasa's events and the analytics, MariaDB for orders and knowledge, ``SANIC_WORKERS``
Rasa processes (one per core) sharing the port and the Redis stores, and its action server.
``ours_embedded`` is the same assistant on the embedded defaults (``make run``: in-memory stores, a
throw-away SQLite database, one Rasa process). All servers run side by side and are measured one
after the other, so only one is under load.

For each system and turn kind (ours: an FAQ turn, an order-status turn of a logged-in customer, the
first turn of the refund form; vanilla: its greet / mood turns), at 1, 8 and 32 concurrent
customers (asyncio + aiohttp, each customer starts a new conversation every 10 turns, a fixed
number of messages per level, at most ``LEVEL_SECONDS`` per level): p50/p95/p99 of the REST round
trip, throughput, errors (a failed request, or a reply without the expected answer), and the
resident memory of each server's processes afterwards. On Redis, the stored conversations of the
32-customer level are then checked: each message stored once, in the order sent, answered before
the next. Then
one customer talks for 152 turns in one conversation: the median of turns 3-7 against turns
148-152. ``goals`` holds issue 9's ratios against vanilla.

python -m benchmarks.run --only serving
# KEFU_BENCH_DATABASE_URL overrides mysql+pymysql://root@127.0.0.1:3306/kefu_bench (created if
# missing); KEFU_BENCH_REDIS_URL / KEFU_BENCH_RABBITMQ_URL as in benchmarks/runtime.py;
# KEFU_BENCH_SERVING_WORKERS overrides the number of Rasa processes (default: one per core).
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

from benchmarks.runtime import (
    MODEL,
    RABBITMQ_URL,
    REDIS_URL,
    ROOT,
    _delete_queues,
    _queue_exists,
    _start,
)
from kefu.security.conversation_access import KEY_HEADER
from tests.processes import free_port, wait_until_ready

VANILLA_CACHE = ROOT / "var" / "bench" / "vanilla"
DATABASE_URL = os.environ.get(
    "KEFU_BENCH_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/kefu_bench?charset=utf8mb4"
)
WORKERS = int(os.environ.get("KEFU_BENCH_SERVING_WORKERS") or os.cpu_count() or 2)
CONCURRENCY = (1, 8, 32)
MESSAGES_PER_LEVEL = 200
LEVEL_SECONDS = 120  # a level stops sending new messages after this long
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
# What a correct answer contains (a reply without it counts as an error).
EXPECTED = {"faq": "99元", "order": "已发货", "form": "订单", "vanilla": ""}
OURS_SYSTEMS = ("ours", "ours_embedded")
# Stock `rasa run` with telemetry and crash reporting off, and none of our endpoints installed.
VANILLA_SERVER = (
    "import sys; from kefu.runtime.patches import disable_phone_home; disable_phone_home(); "
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
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process and its children, in MB."""
    pids = [pid, *_children(pid)]
    totals = {"VmRSS": 0, "VmHWM": 0}
    for one in pids:
        try:
            lines = Path(f"/proc/{one}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key in totals:
                totals[key] += int(value.split()[0])
    return {
        "rss_mb": round(totals["VmRSS"] / 1024, 1),
        "peak_rss_mb": round(totals["VmHWM"] / 1024, 1),
        "processes": len(pids),
    }


def _children(pid: int) -> list[int]:
    """``pid``'s descendants, from one pass over /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _percentile(ordered: list[float], share: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1)


# The conversation keys our servers issued, by (webhook URL, sender): sent back like a real client.
_KEYS: dict[tuple[str, str], str] = {}


async def _say(
    http: Any, url: str, sender: str, text: str, metadata: dict | None, expected: str = ""
) -> float | None:
    """One REST round trip in ms, None when it failed or the answer lacks ``expected``."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    key = _KEYS.get((url, sender))
    start = time.perf_counter()
    try:
        async with http.post(url, json=body, headers={KEY_HEADER: key} if key else None) as reply:
            messages = await reply.json() if reply.status == 200 else None
            if KEY_HEADER in reply.headers:
                _KEYS[url, sender] = reply.headers[KEY_HEADER]
    except Exception:  # a failed turn is counted, not raised
        return None
    elapsed = (time.perf_counter() - start) * 1000
    answer = " ".join(str(m.get("text") or "") for m in messages or [])
    return elapsed if messages and expected in answer else None


async def load(
    url: str, turns: list[str], concurrency: int, metadata: dict | None = None, expected: str = ""
) -> dict[str, Any]:
    """``MESSAGES_PER_LEVEL`` messages from ``concurrency`` customers talking at once."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    remaining = MESSAGES_PER_LEVEL
    sent: dict[str, int] = {}  # messages per conversation
    deadline = time.monotonic() + LEVEL_SECONDS

    async def customer(http: aiohttp.ClientSession) -> None:
        nonlocal remaining, errors
        turn, sender = 0, ""
        while remaining > 0 and time.monotonic() < deadline:
            remaining -= 1
            if turn % TURNS_PER_CONVERSATION == 0:
                sender = f"bench-{uuid.uuid4().hex}"
            sent[sender] = sent.get(sender, 0) + 1
            numbered = {**(metadata or {}), "bench_turn": sent[sender] - 1}  # checked in check_stored
            elapsed = await _say(http, url, sender, turns[turn % len(turns)], numbered, expected)
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
        "messages": sum(sent.values()),
        "errors": errors,
        "seconds": round(seconds, 2),
        "throughput": round(len(latencies) / seconds, 1),
        "p50_ms": _percentile(ordered, 0.5),
        "p95_ms": _percentile(ordered, 0.95),
        "p99_ms": _percentile(ordered, 0.99),
        "conversations": sent,
    }


def check_stored(redis_url: str, prefix: str, conversations: dict[str, int]) -> dict[str, int]:
    """The stored conversations of a level, from Redis: every customer message once, in the order
    sent (each carries its number in the metadata), each answered before the next one."""
    import json

    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    complete = broken = 0
    for sender, count in conversations.items():
        stored = client.get(f"{prefix}:tracker:{sender}")
        events = [
            e
            for e in (json.loads(stored).get("events", []) if stored else [])
            if e.get("event") in ("user", "bot")
        ]
        kinds = [e["event"] for e in events]
        numbers = [(e.get("metadata") or {}).get("bench_turn") for e in events if e["event"] == "user"]
        answered = all(kinds[i + 1 : i + 2] == ["bot"] for i, kind in enumerate(kinds) if kind == "user")
        if numbers == list(range(count)) and answered:
            complete += 1
        else:
            broken += 1
    return {"checked": len(conversations), "complete": complete, "broken": broken}


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


async def _measure(
    url: str, turns: list[str], metadata: dict | None, pids: dict[str, int], expected: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for concurrency in CONCURRENCY:
        level = await load(url, turns, concurrency, metadata, expected)
        level["memory"] = {name: rss_mb(pid) for name, pid in pids.items()}
        result[f"concurrency_{concurrency}"] = level
    return result


async def _warm_up(url: str, turns: list[str], metadata: dict | None) -> str:
    """A few conversations' worth of turns; returns the bot's reply to the first one (a sanity check)."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        sender = f"bench-warm-{uuid.uuid4().hex}"
        body: dict[str, Any] = {"sender": sender, "message": turns[0], "metadata": metadata or {}}
        async with http.post(url, json=body) as reply:
            first = " / ".join(m.get("text", "") for m in await reply.json())
        for turn in range(1, WARM_UP * 3):
            await _say(http, url, f"{sender}-{turn // 10}", turns[turn % len(turns)], metadata)
    return first


def _create_database(url: str) -> None:
    """Creates the benchmark's MySQL/MariaDB database when missing (SQLite needs nothing)."""
    if not url.startswith("mysql"):
        return
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    engine = sa.create_engine(parsed.set(database=""))
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` CHARACTER SET utf8mb4")
        )
    engine.dispose()


def _ours_env(base: dict[str, str], work: Path, system: str, action_port: int, prefix: str) -> dict[str, str]:
    env = {
        **base,
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "ANALYTICS_SPOOL_PATH": str(work / f"analytics-spool-{system}.sqlite3"),
        "CUSTOMER_TOKEN_SECRET": TOKEN_SECRET,
        # The benchmark sends faster than any customer, all from 127.0.0.1.
        **dict.fromkeys(("CHAT_RATE_PER_MINUTE", "SDK_RATE_PER_MINUTE"), "1000000"),
    }
    if system == "ours":
        return {
            **env,
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "RABBITMQ_URL": RABBITMQ_URL,
            "ANALYTICS_QUEUE_PREFIX": f"kefu.bench.{prefix}",
            "SANIC_WORKERS": str(WORKERS),
        }
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{work / 'kefu.db'}",
        "REDIS_URL": "",
        "RABBITMQ_URL": "",
        "SANIC_WORKERS": "1",
    }


def run() -> dict[str, Any]:
    import redis

    from kefu.runtime.redis import check_redis
    from kefu.security.tokens import issue_customer_token

    check_redis(REDIS_URL)
    _create_database(DATABASE_URL)
    rasa_queue_existed = _queue_exists("rasa_events")
    vanilla = vanilla_model()
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-serving-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    ports = {name: (free_port(), free_port()) for name in OURS_SYSTEMS}  # (rasa, actions)
    vanilla_port = free_port()
    envs = {name: _ours_env(base, work, name, ports[name][1], prefix) for name in OURS_SYSTEMS}
    for env in envs.values():
        subprocess.run(
            [sys.executable, "-m", "kefu.db.seed"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    processes: dict[str, subprocess.Popen] = {}
    for name in OURS_SYSTEMS:
        rasa_port, action_port = ports[name]
        processes[f"{name}_actions"] = _start(
            [sys.executable, "-m", "kefu.action_server", "--actions", "actions", "--port", str(action_port)],
            envs[name],
            work / f"actions-{name}.log",
        )
        processes[f"{name}_rasa"] = _start(
            [sys.executable, "-m", "kefu.rasa_cli", "run", "--port", str(rasa_port), "--model", str(MODEL),
             "--endpoints", "endpoints.yml"],
            envs[name],
            work / f"rasa-{name}.log",
        )  # fmt: skip
    processes["vanilla_rasa"] = subprocess.Popen(
        [sys.executable, "-c", VANILLA_SERVER, "run", "--port", str(vanilla_port), "--model", str(vanilla)],
        cwd=VANILLA_CACHE / "project" if (VANILLA_CACHE / "project").is_dir() else work,
        env=base,
        stdout=(work / "rasa-vanilla.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    result: dict[str, Any] = {}
    try:
        for name in OURS_SYSTEMS:
            wait_until_ready(
                f"http://127.0.0.1:{ports[name][1]}/health", processes[f"{name}_actions"], "a server", 300
            )
            wait_until_ready(
                f"http://127.0.0.1:{ports[name][0]}/", processes[f"{name}_rasa"], "a server", 300
            )
        wait_until_ready(f"http://127.0.0.1:{vanilla_port}/", processes["vanilla_rasa"], "a server", 300)
        vanilla_url = f"http://127.0.0.1:{vanilla_port}/webhooks/rest/webhook"
        urls = {name: f"http://127.0.0.1:{ports[name][0]}/webhooks/rest/webhook" for name in OURS_SYSTEMS}
        pids = {
            name: {"rasa": processes[f"{name}_rasa"].pid, "actions": processes[f"{name}_actions"].pid}
            for name in OURS_SYSTEMS
        }
        vanilla_pids = {"rasa": processes["vanilla_rasa"].pid}
        metadata = {"order": {"user_token": issue_customer_token(A_USER, TOKEN_SECRET, ttl_seconds=7200)}}

        async def measure_all() -> None:
            first = await _warm_up(vanilla_url, VANILLA_TURNS, None)
            result["vanilla"] = await _measure(vanilla_url, VANILLA_TURNS, None, vanilla_pids, "")
            result["vanilla"]["turn_5_vs_150"] = await long_conversation(vanilla_url, VANILLA_TURNS)
            result["vanilla"]["memory"] = {name: rss_mb(pid) for name, pid in vanilla_pids.items()}
            result["vanilla"]["first_reply"] = first
            for kind, turns in OURS_TURNS.items():
                result[kind] = {}
                for name in OURS_SYSTEMS:
                    first = await _warm_up(urls[name], turns, metadata.get(kind))
                    levels = await _measure(urls[name], turns, metadata.get(kind), pids[name], EXPECTED[kind])
                    levels["first_reply"] = first
                    if name == "ours":
                        top = levels[f"concurrency_{CONCURRENCY[-1]}"]
                        levels["stored_conversations"] = check_stored(REDIS_URL, prefix, top["conversations"])
                    result[kind][name] = levels
            for name in OURS_SYSTEMS:
                result[name] = {
                    "turn_5_vs_150": await long_conversation(urls[name], OURS_TURNS["faq"]),
                    "memory": {process: rss_mb(pid) for process, pid in pids[name].items()},
                }
            result["ours"]["stack"] = {
                "rasa_processes": WORKERS,
                "database": DATABASE_URL.split("@")[-1],
                "redis": REDIS_URL.split("@")[-1],
                "rabbitmq": RABBITMQ_URL.split("@")[-1],
            }
            result["ours_embedded"]["stack"] = {"rasa_processes": 1, "database": "sqlite", "stores": "memory"}

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
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        _delete_queues(f"kefu.bench.{prefix}", also_rasa_events=not rasa_queue_existed)
    _drop(result, "conversations")  # the per-conversation counts served the check above
    result["goals"] = goals(result)
    result["messages_per_level"] = MESSAGES_PER_LEVEL
    result["turns_per_conversation"] = TURNS_PER_CONVERSATION
    result["vanilla_turns"] = VANILLA_TURNS
    result["ours_turns"] = {kind: turns[0] for kind, turns in OURS_TURNS.items()}
    return result


def _drop(tree: Any, key: str) -> None:
    if isinstance(tree, dict):
        tree.pop(key, None)
        for value in tree.values():
            _drop(value, key)


def goals(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 9's goals: ours (production stack) against vanilla, from this run; the FAQ turn, and the
    order and form turns against the throughput and p99 goals."""
    top, one = f"concurrency_{CONCURRENCY[-1]}", f"concurrency_{CONCURRENCY[0]}"
    vanilla, ours = result["vanilla"], result["faq"]["ours"]
    figures = {
        "throughput_32_ratio": (ours[top]["throughput"] / vanilla[top]["throughput"], ">=", 2.0),
        "p99_32_ratio": (ours[top]["p99_ms"] / vanilla[top]["p99_ms"], "<=", 0.4),
        "p50_1_ratio": (ours[one]["p50_ms"] / vanilla[one]["p50_ms"], "<=", 1.0),
        "turn_150_vs_5": (result["ours"]["turn_5_vs_150"]["ratio"], "<=", 1.2),
    }
    for kind in ("order", "form"):  # the heavier turns, against the same goals
        if "ours" in result.get(kind, {}):
            levels = result[kind]["ours"]
            figures[f"{kind}_throughput_32_ratio"] = (
                levels[top]["throughput"] / vanilla[top]["throughput"],
                ">=",
                2.0,
            )
            figures[f"{kind}_p99_32_ratio"] = (levels[top]["p99_ms"] / vanilla[top]["p99_ms"], "<=", 0.4)
    return {
        name: {
            "value": round(value, 2),
            "goal": f"{sign} {target}",
            "met": value >= target if sign == ">=" else value <= target,
        }
        for name, (value, sign, target) in figures.items()
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(system, turn kind, figures of one concurrency level) for every measured level."""
    systems = [("vanilla", "greet/mood", result["vanilla"])]
    for kind in OURS_TURNS:
        systems += [(name, kind, result[kind][name]) for name in OURS_SYSTEMS if name in result.get(kind, {})]
    return systems


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{'system':<14} {'turn':<11} {'clients':>7} {'msg/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'errors':>6} {'rasa MB':>8}  (ms)"
    ]
    for name, kind, levels in rows(result):
        for concurrency in CONCURRENCY:
            r = levels[f"concurrency_{concurrency}"]
            lines.append(
                f"{name:<14} {kind:<11} {concurrency:>7} {r['throughput']:>7} {r['p50_ms']:>7} "
                f"{r['p95_ms']:>7} {r['p99_ms']:>7} {r['errors']:>6} {r['memory']['rasa']['rss_mb']:>8}"
            )
    for name in ("vanilla", *OURS_SYSTEMS):
        long = result[name]["turn_5_vs_150"]
        memory = ", ".join(
            f"{p} {m['rss_mb']} MB (peak {m['peak_rss_mb']})" for p, m in result[name]["memory"].items()
        )
        lines.append(
            f"{name}: turn 5 {long['turn_5_ms']} ms, turn 150 {long['turn_150_ms']} ms "
            f"({long['ratio']}x); memory after the run: {memory}"
        )
    for kind in OURS_TURNS:
        stored = result.get(kind, {}).get("ours", {}).get("stored_conversations")
        if stored:
            lines.append(
                f"ours {kind}, 32 customers, stored in Redis: {stored['complete']} of {stored['checked']} "
                "conversations complete (every message once, in order, each answered)"
            )
    for name, goal in result.get("goals", {}).items():
        lines.append(
            f"goal {name}: {goal['value']} (goal {goal['goal']}): {'met' if goal['met'] else 'NOT met'}"
        )
    return "\n".join(lines)
