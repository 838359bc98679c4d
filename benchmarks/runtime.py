"""What Redis and RabbitMQ cost a customer: end-to-end latency against the embedded defaults.

Three Rasa servers with the trained model run side by side: ``memory`` (in-memory stores, analytics
written to the database: the ``make run`` default), ``redis`` (``REDIS_URL``: the machine's Redis,
a key prefix of its own, removed afterwards) and ``redis_rabbitmq`` (Redis plus ``RABBITMQ_URL``:
Rasa's event broker and the analytics publisher on the machine's RabbitMQ, analytics queues of
their own, deleted afterwards). They share one action server on a throw-away SQLite database. The
same conversations go to all three, message by message in turn, so all see the same machine load.
Latency is the REST round trip of one message (the reply included), measured by the client.

python -m benchmarks.run --only runtime
# KEFU_BENCH_REDIS_URL overrides redis://127.0.0.1:6379/0,
# KEFU_BENCH_RABBITMQ_URL overrides amqp://guest:guest@127.0.0.1:5672/%2F (a development broker:
# the benchmark deletes Rasa's `rasa_events` queue afterwards if it created it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from kefu.security.conversation_access import KEY_HEADER
from tests.processes import free_port, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "kefu.tar.gz"
REDIS_URL = os.environ.get("KEFU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("KEFU_BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RASA_EVENTS_QUEUE = "rasa_events"  # kefu.runtime.endpoints.event_broker
MODES = ("memory", "redis", "redis_rabbitmq")
CONVERSATIONS = 12
# One conversation: small talk (NLU and policy only) and policy questions (the action server too).
TURNS = ["你好", "运费怎么算？", "可以开发票吗", "退货要多久到账", "会员有什么权益", "你是机器人吗",
         "优惠券怎么用", "怎么修改收货地址", "谢谢", "再见"]  # fmt: skip


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "messages": len(ordered),
        "mean_ms": round(statistics.fmean(ordered), 1),
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)], 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
    }


def run() -> dict[str, Any]:
    import redis

    from kefu.runtime.redis import check_redis

    check_redis(REDIS_URL)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-runtime-"))
    rasa_queue_existed = _queue_exists(RASA_EVENTS_QUEUE)
    action_port, ports = free_port(), {mode: free_port() for mode in MODES}
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DATABASE_URL": f"sqlite:///{work / 'kefu.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RABBITMQ_URL": "",
        "REDIS_URL": "",
        "ANALYTICS_SPOOL_PATH": str(work / "analytics-spool.sqlite3"),
        "CHAT_RATE_PER_MINUTE": "100000",  # the benchmark sends faster than any customer
    }
    subprocess.run(
        [sys.executable, "-m", "kefu.db.seed"], cwd=ROOT, env=base, check=True, capture_output=True
    )
    processes = [
        _start(
            [sys.executable, "-m", "kefu.action_server", "--actions", "actions", "--port", str(action_port)],
            base,
            work / "actions.log",
        )
    ]
    for mode, port in ports.items():
        env = {
            **base,
            "REDIS_URL": "" if mode == "memory" else REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "RABBITMQ_URL": RABBITMQ_URL if mode == "redis_rabbitmq" else "",
            "ANALYTICS_QUEUE_PREFIX": f"kefu.bench.{prefix}",
            "ANALYTICS_SPOOL_PATH": str(work / f"analytics-spool-{mode}.sqlite3"),
        }
        command = [sys.executable, "-m", "kefu.rasa_cli", "run", "--model", str(MODEL), "--port", str(port)]
        processes.append(_start([*command, "--endpoints", "endpoints.yml"], env, work / f"rasa-{mode}.log"))
    latencies: dict[str, list[float]] = {mode: [] for mode in ports}
    by_turn: dict[str, list[list[float]]] = {mode: [[] for _ in TURNS] for mode in ports}
    keys: dict[tuple[int, str], str] = {}  # the conversation keys the servers issued
    try:
        wait_until_ready(f"http://127.0.0.1:{action_port}/health", processes[0], "the action server", 300)
        for number, port in enumerate(ports.values(), start=1):
            wait_until_ready(f"http://127.0.0.1:{port}/", processes[number], "a Rasa server", 300)
        with requests.Session() as http:
            for number in range(CONVERSATIONS + 1):  # the first conversation warms both servers up
                sender = f"bench-{uuid.uuid4().hex}"
                for turn, text in enumerate(TURNS):
                    for mode, port in ports.items():
                        start = time.perf_counter()
                        key = keys.get((port, sender))
                        reply = http.post(
                            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                            json={"sender": sender, "message": text},
                            headers={KEY_HEADER: key} if key else None,
                            timeout=60,
                        )
                        elapsed = (time.perf_counter() - start) * 1000
                        reply.raise_for_status()
                        if KEY_HEADER in reply.headers:  # what a client keeps for the next turn
                            keys[port, sender] = reply.headers[KEY_HEADER]
                        if number:
                            latencies[mode].append(elapsed)
                            by_turn[mode][turn].append(elapsed)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        _delete_queues(f"kefu.bench.{prefix}", also_rasa_events=not rasa_queue_existed)
    result: dict[str, Any] = {mode: _summary(values) for mode, values in latencies.items()}
    for mode in MODES[1:]:
        result[f"{mode}_minus_memory_ms"] = {
            "mean": round(result[mode]["mean_ms"] - result["memory"]["mean_ms"], 1),
            "p50": round(result[mode]["p50_ms"] - result["memory"]["p50_ms"], 1),
            "first_turn_mean": round(
                statistics.fmean(by_turn[mode][0]) - statistics.fmean(by_turn["memory"][0]), 1
            ),
            "last_turn_mean": round(
                statistics.fmean(by_turn[mode][-1]) - statistics.fmean(by_turn["memory"][-1]), 1
            ),
        }
    result["conversations"] = CONVERSATIONS
    result["turns_per_conversation"] = len(TURNS)
    result["redis"]["url"] = REDIS_URL.split("@")[-1]
    result["redis_rabbitmq"]["url"] = RABBITMQ_URL.split("@")[-1]
    return result


def _queue_exists(name: str) -> bool:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        connection.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def _delete_queues(prefix: str, also_rasa_events: bool) -> None:
    """Removes the analytics exchange and queues of this run (and Rasa's queue if this run made it)."""
    import pika

    from kefu.analytics.topology import Topology
    from kefu.settings import get_settings

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        topology = Topology(prefix, get_settings().analytics_retry_delays_ms)
        names = topology.queues()
        if also_rasa_events:
            names.append(RASA_EVENTS_QUEUE)
        for name in names:
            channel.queue_delete(name)
        channel.exchange_delete(topology.exchange)
    finally:
        connection.close()


def report(result: dict[str, Any]) -> str:
    lines = [f"{'stores':<8} {'messages':>8} {'mean':>8} {'p50':>8} {'p90':>8} {'p99':>8}  (ms per message)"]
    for mode in MODES:
        row = result[mode]
        lines.append(
            f"{mode:<8} {row['messages']:>8} {row['mean_ms']:>8} {row['p50_ms']:>8} {row['p90_ms']:>8} "
            f"{row['p99_ms']:>8}"
        )
    for mode, what in (("redis", "Redis"), ("redis_rabbitmq", "Redis + RabbitMQ")):
        diff = result[f"{mode}_minus_memory_ms"]
        lines.append(
            f"{what} costs {diff['mean']} ms per message on average (p50 {diff['p50']} ms; first turn "
            f"{diff['first_turn_mean']} ms, turn {result['turns_per_conversation']} "
            f"{diff['last_turn_mean']} ms)"
        )
    return "\n".join(lines)
