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
