"""The root conftest's guards for a parallel run (``make test``: pytest-xdist, ``-n auto``): no
connection leaves this machine, and each worker's cache is its own."""

import socket

import pytest
from django.conf import settings
from django.core.cache import cache

import conftest


def test_a_connection_outside_this_machine_is_refused_before_any_lookup():
    with pytest.raises(conftest.NetworkAccessBlocked, match="203.0.113.7:80"):
        socket.create_connection(("203.0.113.7", 80), timeout=0.1)  # TEST-NET-3: never routed
    with socket.socket() as sock, pytest.raises(conftest.NetworkAccessBlocked, match="example.com:443"):
        sock.connect(("example.com", 443))
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(conftest.NetworkAccessBlocked):
        sock.connect_ex(("2001:db8::1", 80, 0, 0))
    # Recorded as well (code under test may catch the error): the guard would fail this test at
    # its end; here the attempts were the point.
    assert len(conftest._blocked) == 3
    conftest._blocked.clear()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_connections_go_through(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, 0), family=family)
    except OSError:
        pytest.skip(f"{host} is not configured here")
    with listener, socket.create_connection((host, listener.getsockname()[1]), timeout=2):
        pass


def test_unix_sockets_go_through(tmp_path):
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as listener, socket.socket(socket.AF_UNIX) as client:
        listener.bind(path)
        listener.listen()
        client.connect(path)


def test_each_worker_has_its_own_cache_prefix():
    worker = conftest.worker_id()
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    assert cache.key_prefix == prefix
    if worker:
        assert prefix.endswith(f"-{worker}")


@pytest.mark.redis
def test_clearing_the_cache_leaves_other_workers_keys_alone():
    client = cache._cache.get_client(None, write=True)
    other = f"{cache.key_prefix}-elsewhere:1:kept"
    client.set(other, b"1", ex=60)
    cache.set("mine", 1)
    try:
        conftest._clear_cache()
        assert cache.get("mine") is None
        assert client.get(other) == b"1"
    finally:
        client.delete(other)
