"""The Redis cache backend builds its redis client once per connection pool."""

from wechathhu.core.cache import RedisCache


def test_one_redis_client_per_pool_not_one_per_call():
    backend = RedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.1}})
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client
    assert backend._cache.get_client("any key") is client
