"""Rate limits on API tokens and logins, shared by every process through the database (or
Redis), counted in windows of the app clock, and answered with 429 problem+json."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import delete

from partsvc.auth.identity import hash_token
from partsvc.core.errors import InvalidInput
from partsvc.platform.db import Database
from partsvc.platform.limits.counters import DatabaseWindows, Limiter, Rate, RedisWindows
from partsvc.platform.limits.models import RateCounter
from tests.conftest import AppMaker, Clock


def test_rates_are_read_as_hits_per_period() -> None:
    assert Rate.parse("10/minute") == Rate(10, 60)
    assert Rate.parse("600/min") == Rate(600, 60)
    assert Rate.parse("5 / hour") == Rate(5, 3600)
    assert Rate.parse("100/10 seconds") == Rate(100, 10)
    for wrong in ("ten/minute", "10", "10/fortnight", "0/minute"):
        with pytest.raises(InvalidInput):
            Rate.parse(wrong)


def test_a_token_over_its_rate_gets_429_problem_json_with_retry_after(
    make_app: AppMaker, tokens: dict[str, str]
) -> None:
    client = make_app(token_rate="3/minute").test_client()
    headers = {"Authorization": tokens["clerk"]}
    assert [client.get("/api/v1/parts", headers=headers).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/parts", headers=headers)
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "/problems/too-many-requests"
    assert "3 requests in 60 seconds" in refused.json["detail"]
    # The test clock stands at 02:00:00, the start of a minute: the whole minute to wait.
    assert refused.headers["Retry-After"] == "60"
    other = client.get("/api/v1/parts", headers={"Authorization": tokens["dispatcher"]})
    assert other.status_code == 200


def test_the_limit_resets_when_the_window_is_over(
    make_app: AppMaker, tokens: dict[str, str], clock: Clock
) -> None:
    client = make_app(token_rate="2/minute").test_client()
    headers = {"Authorization": tokens["clerk"]}
    for _ in range(2):
        client.get("/api/v1/parts", headers=headers)
    clock.advance(seconds=59)
    assert client.get("/api/v1/parts", headers=headers).status_code == 429
    clock.advance(seconds=1)
    assert client.get("/api/v1/parts", headers=headers).status_code == 200


def test_two_app_instances_on_one_database_share_one_limit(
    make_app: AppMaker, tokens: dict[str, str]
) -> None:
    first, second = (make_app(token_rate="4/minute").test_client() for _ in range(2))
    headers = {"Authorization": tokens["clerk"]}
    answers = [
        client.get("/api/v1/parts", headers=headers).status_code
        for client in (first, second, first, second, first, second)
    ]
    assert answers == [200, 200, 200, 200, 429, 429]


def test_bad_tokens_from_one_address_are_refused_but_a_good_token_from_there_is_not(
    make_app: AppMaker, tokens: dict[str, str]
) -> None:
    """Issue 23 (1): 25 requests with a stale token, then one with a good token, from one
    address (behind a proxy, every client's): the guesses past the limit get 429, the good
    token its answer."""
    client = make_app().test_client()  # the default: 20 bad tokens a minute per address
    bad = {"Authorization": "Bearer psv_stale"}
    answers = [client.get("/api/v1/parts", headers=bad).status_code for _ in range(25)]
    assert answers == [401] * 20 + [429] * 5
    refused = client.get("/api/v1/parts", headers=bad)
    assert refused.json["title"] == "Too many requests"
    assert refused.headers["Retry-After"] == "60"
    good = client.get("/api/v1/parts", headers={"Authorization": tokens["admin"]})
    assert good.status_code == 200
    assert client.get("/api/v1/parts", headers=bad).status_code == 429


def test_requests_without_a_token_are_not_counted_as_bad_tokens(make_app: AppMaker) -> None:
    client = make_app(token_failure_rate="1/minute").test_client()
    assert [client.get("/api/v1/parts").status_code for _ in range(3)] == [401] * 3


class CountingWindows:
    """A store that counts how often it is written to and read."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, int], int] = {}
        self.adds = 0
        self.reads = 0

    def add(self, key: str, window: int, amount: int, expire_s: int) -> int:
        self.adds += 1
        self.totals[key, window] = self.totals.get((key, window), 0) + amount
        return self.totals[key, window]

    def read(self, key: str, window: int) -> int:
        self.reads += 1
        return self.totals.get((key, window), 0)


MOMENT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_a_batching_limiter_writes_once_per_batch_and_every_hit_near_the_limit() -> None:
    windows = CountingWindows()
    limiter = Limiter(windows, Rate(100, 60), batch=10)
    for _ in range(50):
        assert limiter.hit("token:x", MOMENT).allowed
    assert windows.adds == 5
    assert windows.read("token:x", limiter._window(MOMENT)[0]) == 50


def test_peeking_reads_the_store_once_a_second_and_sees_this_processs_own_hits() -> None:
    windows = CountingWindows()
    limiter, other = Limiter(windows, Rate(3, 60)), Limiter(windows, Rate(3, 60))
    for _ in range(20):
        assert limiter.peek("failures:x", MOMENT).allowed
    assert windows.reads == 1
    for _ in range(3):
        other.hit("failures:x", MOMENT)
    assert limiter.peek("failures:x", MOMENT).allowed  # trusted for a second
    assert not limiter.peek("failures:x", MOMENT + timedelta(seconds=1)).allowed
    assert windows.reads == 2
    limiter.hit("failures:y", MOMENT)
    limiter.hit("failures:y", MOMENT)
    assert limiter.peek("failures:y", MOMENT).hits == 2
    assert windows.reads == 2


def test_two_batching_limiters_refuse_once_their_shared_count_passes_the_limit() -> None:
    windows = CountingWindows()
    first, second = (Limiter(windows, Rate(30, 60), batch=10) for _ in range(2))
    allowed = 0
    for _ in range(40):
        allowed += first.hit("token:x", MOMENT).allowed
        allowed += second.hit("token:x", MOMENT).allowed
    # Each process may run ahead of the shared count by less than one batch.
    assert 30 <= allowed < 30 + 2 * 10


@pytest.fixture
def own_database(database_url: str) -> Iterator[Database]:
    """A database outside the test's transaction: these writers commit for real."""
    database = Database(database_url, pool_size=8)
    yield database
    with database.unit_of_work() as session:
        session.execute(delete(RateCounter).where(RateCounter.key.like("test-%")))
    database.dispose()


def test_concurrent_hits_on_the_database_counter_are_all_counted(own_database: Database) -> None:
    windows = DatabaseWindows(own_database)
    key = f"test-{uuid.uuid4().hex}"
    totals: list[int] = []
    errors: list[BaseException] = []

    def hit_ten_times() -> None:
        try:
            for _ in range(10):
                totals.append(windows.add(key, 7, 1, 120))
        except BaseException as error:  # pragma: no cover - shown by the assert below
            errors.append(error)

    threads = [threading.Thread(target=hit_ten_times) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(totals) == list(range(1, 61))
    assert windows.read(key, 7) == 60
    assert windows.add(key, 8, 1, 120) == 1  # a new window starts again from one


@pytest.fixture
def redis_windows(redis_url: str) -> Iterator[RedisWindows]:
    client = redis.Redis.from_url(redis_url)
    prefix = f"partsvc-test:{uuid.uuid4().hex}:"
    yield RedisWindows(client, prefix=prefix)
    for name in client.scan_iter(f"{prefix}*"):
        client.delete(name)
    client.close()


def test_two_processes_counting_in_redis_share_one_limit(redis_windows: RedisWindows) -> None:
    first, second = (Limiter(redis_windows, Rate(3, 60)) for _ in range(2))
    answers = [limiter.hit("token:x", MOMENT).allowed for limiter in (first, second, first, second)]
    assert answers == [True, True, True, False]
    assert not first.peek("token:x", MOMENT).allowed
    later = MOMENT + timedelta(minutes=1)
    assert second.hit("token:x", later).allowed


def test_redis_keys_expire_after_their_window(redis_windows: RedisWindows) -> None:
    Limiter(redis_windows, Rate(3, 60)).hit("token:y", MOMENT)
    (name,) = redis_windows.client.scan_iter(f"{redis_windows.prefix}*")
    assert 60 < redis_windows.client.ttl(name) <= 120


def test_apps_given_a_redis_url_share_their_token_limit_in_redis(
    make_app: AppMaker, tokens: dict[str, str], redis_url: str
) -> None:
    first, second = (
        make_app(redis_url=redis_url, token_rate="2/minute").test_client() for _ in range(2)
    )
    headers = {"Authorization": tokens["clerk"]}
    client = redis.Redis.from_url(redis_url)
    key = f"partsvc:rate:token:{hash_token(tokens['clerk'].removeprefix('Bearer '))[:40]}:*"
    try:
        answers = [c.get("/api/v1/parts", headers=headers).status_code for c in (first, second)]
        assert answers == [200, 200]
        assert first.get("/api/v1/parts", headers=headers).status_code == 429
        assert len(list(client.scan_iter(key))) == 1
    finally:
        for name in client.scan_iter(key):
            client.delete(name)
        client.close()


def test_requests_go_through_with_a_warning_when_redis_does_not_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    limiter = Limiter(RedisWindows(client), Rate(1, 60))
    try:
        assert limiter.hit("token:z", MOMENT).allowed
        assert limiter.peek("token:z", MOMENT).allowed
    finally:
        client.close()
    assert "Redis failed" in caplog.text
