"""`/metrics`' guard, `/healthz` and `/readyz` (issue 28), and what they answer when the
database or the broker is gone."""

import ipaddress
import socket
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client

from syncapp.ops import health

TOKEN = "metrics-token-for-the-tests-0123456789"


def closed_port():
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the guard -----------------------------------------------------------------------------


@pytest.fixture
def guarded(db, settings):
    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    settings.SWSTUDIO_METRICS_ALLOWED_IPS = []
    return settings


def test_the_right_token_scrapes(guarded, client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"swstudio_sync_enabled" in response.content


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer ",
        "Bearer wrong-token-of-the-same-kind-0123456789",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        f"Token {TOKEN}",
    ],
)
def test_a_missing_or_wrong_token_is_refused_as_if_nothing_were_there(
    guarded, client, authorization
):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    refused = client.get("/metrics", **headers)
    nothing = client.get("/no-such-page", **headers)
    assert refused.status_code == nothing.status_code == 404
    assert refused.content == nothing.content
    assert dict(refused.headers) == dict(nothing.headers)
    assert b"swstudio" not in refused.content and b"metric" not in refused.content.lower()


def test_the_allow_list_admits_only_its_addresses(guarded, client):
    guarded.SWSTUDIO_METRICS_TOKEN = ""
    guarded.SWSTUDIO_METRICS_ALLOWED_IPS = [
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("::1/128"),
    ]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    # A proxy's header is not an address the guard believes.
    forwarded = client.get("/metrics", REMOTE_ADDR="10.2.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert forwarded.status_code == 404


def test_with_both_set_a_scrape_needs_both(guarded, client):
    guarded.SWSTUDIO_METRICS_ALLOWED_IPS = [ipaddress.ip_network("10.1.0.0/16")]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", **auth).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.2.3", **auth).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404


@pytest.mark.parametrize(("debug", "status"), [(False, 404), (True, 200)])
def test_unconfigured_it_is_open_only_with_debug_on(db, settings, client, debug, status):
    settings.SWSTUDIO_METRICS_TOKEN = ""
    settings.SWSTUDIO_METRICS_ALLOWED_IPS = []
    settings.DEBUG = debug
    assert client.get("/metrics").status_code == status


def test_only_reads_are_answered_and_a_strangers_post_learns_nothing(guarded, client):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403
    for method in ("post", "put", "delete", "options"):
        stranger = getattr(strict, method)("/metrics")
        nothing = getattr(strict, method)("/no-such-page")
        assert (stranger.status_code, stranger.content) == (404, nothing.content), method


# --- health -------------------------------------------------------------------------------


def test_healthz_and_readyz_answer_up_and_nothing_more(db, client, settings):
    settings.SECURE_SSL_REDIRECT = True  # probes come over plain HTTP, by address
    settings.ALLOWED_HOSTS = ["swstudio.example.com"]
    for path in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
        response = client.get(path, HTTP_HOST="10.0.0.7:8000")
        assert (response.status_code, response.content) == (200, b"ok\n"), path
        assert response["Cache-Control"] == "no-store"
        assert not response.cookies
    assert client.head("/readyz").status_code == 200


@pytest.fixture(params=["address", "driver"])
def outage(request, transactional_db, monkeypatch):
    """The database gone: its address now points where nothing answers (a closed port on
    PostgreSQL; a file in a directory that does not exist on SQLite), or the driver refuses
    every connection."""
    connection.close()
    if request.param == "driver":

        def refuse(*args, **kwargs):
            raise OperationalError("connection refused")

        monkeypatch.setattr(connection, "get_new_connection", refuse)
    elif connection.vendor == "postgresql":
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", closed_port())
    else:
        monkeypatch.setitem(connection.settings_dict, "NAME", "/nonexistent-dir/gone.sqlite3")
    yield
    connection.close()
    monkeypatch.undo()


def test_during_a_database_outage_readyz_and_metrics_answer_503_at_once(outage, settings):
    from django.test import Client

    import swstudio_site.urls  # noqa: F401  (loaded at a process's first request; not timed)

    settings.SWSTUDIO_METRICS_TOKEN = TOKEN
    client = Client()
    for path, body in (("/readyz", b"down\n"), ("/metrics", b"unavailable\n")):
        started = time.monotonic()
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        elapsed = time.monotonic() - started
        assert (response.status_code, response.content) == (503, body), path
        assert elapsed < 0.5, (path, elapsed)
    # The process itself is alive.
    assert client.get("/healthz").status_code == 200


def test_a_database_host_that_drops_packets_is_down_within_the_timeout(monkeypatch, settings):
    """An address that never answers (a blackholed host): the probe's timeout, not the
    driver's unbounded connect, decides how long /readyz takes."""
    settings.SWSTUDIO_HEALTH_TIMEOUT = 0.2

    def never_answers(address, timeout):
        time.sleep(timeout)
        raise TimeoutError("timed out")

    fake = type(
        "Conn",
        (),
        {
            "vendor": "postgresql",
            "connection": None,
            "settings_dict": {"HOST": "10.255.255.1", "PORT": 5432},
            "close": lambda self: None,
        },
    )()
    monkeypatch.setattr(health, "connection", fake)
    monkeypatch.setattr(health.socket, "create_connection", never_answers)
    started = time.monotonic()
    assert health.ready() is False
    assert time.monotonic() - started < 0.4


def test_readyz_is_down_when_the_redis_broker_is_unreachable(db, settings, client):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/3"
    started = time.monotonic()
    response = client.get("/readyz")
    assert (response.status_code, response.content) == (503, b"down\n")
    assert time.monotonic() - started < 0.5
    assert client.get("/healthz").status_code == 200


def test_readyz_is_up_with_a_redis_broker_that_answers(db, settings, client):
    settings.REDIS_URL = "redis://127.0.0.1:6379/3"
    try:
        socket.create_connection(("127.0.0.1", 6379), 0.2).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    assert client.get("/readyz").content == b"ok\n"


def test_readyz_with_the_orm_broker_is_the_database(outage, settings):
    from django.test import Client

    settings.REDIS_URL = ""
    assert health.broker_up(0.2) is False
    assert Client().get("/readyz").status_code == 503


@pytest.mark.skipif(connection.vendor != "postgresql", reason="libpq's connect_timeout")
def test_a_database_server_that_accepts_and_never_answers_is_down_within_connect_timeout(
    transactional_db, monkeypatch, settings
):
    """A server that takes the TCP connection and never answers (a hung server, a proxy in
    front of a dead one): libpq would wait without end; settings give it connect_timeout
    (DATABASE_CONNECT_TIMEOUT, 10 s; libpq's least is 2 s)."""
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 10
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        connection.close()
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", silent.getsockname()[1])
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "connect_timeout", 2)
        started = time.monotonic()
        assert health.ready() is False
        assert time.monotonic() - started < 5
    finally:
        connection.close()
        monkeypatch.undo()
        silent.close()
