from kefu.security.ratelimit import InMemoryRateLimiter, check_chat


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_key_gets_its_limit_per_window_then_a_retry_after():
    clock = Clock(1_000_040.0)  # 20 s into a minute (1_000_020 = 16667 * 60)
    limiter = InMemoryRateLimiter(clock)
    assert all([(await limiter.hit("k", 3)).allowed for _ in range(3)])
    refused = await limiter.hit("k", 3)
    assert not refused.allowed and refused.retry_after == 40
    assert (await limiter.hit("other", 3)).allowed
    clock.now += 40
    assert (await limiter.hit("k", 3)).allowed


async def test_chat_is_limited_per_sender_and_more_loosely_per_ip():
    limiter = InMemoryRateLimiter()
    for _ in range(2):
        assert (await check_chat("a", "10.0.0.1", 2, limiter)).allowed
    assert not (await check_chat("a", "10.0.0.1", 2, limiter)).allowed
    allowed = [(await check_chat(f"s{i}", "10.0.0.1", 2, limiter)).allowed for i in range(12)]
    assert allowed.count(False) >= 2  # the address reached 5x the per-sender allowance


def test_the_client_address_is_the_peer_unless_sanic_was_told_of_a_proxy():
    from types import SimpleNamespace

    from kefu.security.ratelimit import client_ip

    # Sanic fills remote_addr only from a trusted proxy's header (REAL_IP_HEADER, PROXIES_COUNT).
    assert client_ip(SimpleNamespace(remote_addr="", ip="198.51.100.7")) == "198.51.100.7"
    assert client_ip(SimpleNamespace(remote_addr="203.0.113.9", ip="10.0.0.2")) == "203.0.113.9"
