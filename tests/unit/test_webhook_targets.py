"""SSRF: a webhook goes only to public https hosts in a deployed stage, checked after DNS
resolution and connected to by the checked address. The resolver is a stub: these tests never
connect to a private or public address (only to a receiver of their own on 127.0.0.1)."""
from __future__ import annotations

import socket

import pytest

from chalicelib.outbound import targets, webhook_signature
from harness.webhooks import Receiver


def resolver_of(*addresses: str):
    """A getaddrinfo stand-in answering ``addresses`` for any name, and recording the names asked."""
    asked: list[str] = []

    def resolve(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    resolve.asked = asked
    return resolve


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/relais",
    "https://127.0.0.1/relais",
    "http://127.0.0.1:8080/relais",
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook",
    "https://localhost/hook",
    "https://user:pass@hooks.example.org/",
    "https://hooks.example.org:8443/",
    "https://[::1]/hook",
    "https://0x7f000001/",
    "ftp://hooks.example.org/",
])
def test_a_deployed_stage_refuses_a_url_that_is_not_https_on_a_public_host_name(url):
    stub = resolver_of("93.184.216.34")
    assert targets.allowed_url(url, local=False) is None
    with pytest.raises(targets.Refused):
        targets.resolve(url, local=False, resolver=stub)
    assert stub.asked == []  # refused before any lookup


@pytest.mark.parametrize("address", [
    "10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "198.18.0.1",
    "::1", "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:10.0.0.5", "::ffff:127.0.0.1", "64:ff9b::a00:5",
    "2002:a00:5::1", "ff02::1", "::",
])
def test_a_public_name_resolving_to_a_non_public_address_is_refused(address):
    with pytest.raises(targets.Refused, match="not a public address"):
        targets.resolve("https://hooks.example.org/relais", local=False, resolver=resolver_of(address))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(targets.Refused, match=r"10\.0\.0\.5"):
        targets.resolve("https://hooks.example.org/relais", local=False,
                        resolver=resolver_of("93.184.216.34", "10.0.0.5"))


def test_a_public_name_is_pinned_to_the_address_that_was_checked():
    target = targets.resolve("https://hooks.example.org/relais?x=1", local=False,
                             resolver=resolver_of("93.184.216.34", "2606:2800:220:1::1"))
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https", "hooks.example.org", 443, "/relais?x=1", "93.184.216.34")


def test_a_name_that_does_not_resolve_is_refused():
    def failing(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(targets.Refused, match="does not resolve"):
        targets.resolve("https://nowhere.example.org/", local=False, resolver=failing)


def test_the_system_resolver_is_the_one_patched_in_socket(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", resolver_of("10.0.0.5"))
    with pytest.raises(targets.Refused, match=r"10\.0\.0\.5"):
        targets.resolve("https://internal.example.org/", local=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://localhost:9000/", "https://127.0.0.1/x"])
def test_a_local_stage_also_accepts_loopback_urls_that_resolve_to_loopback(url):
    target = targets.resolve(url, local=True, resolver=resolver_of("127.0.0.1"))
    assert target.address == "127.0.0.1"


def test_a_local_stage_still_refuses_localhost_resolving_elsewhere_and_private_hosts():
    with pytest.raises(targets.Refused):
        targets.resolve("http://localhost:8080/", local=True, resolver=resolver_of("10.0.0.5"))
    with pytest.raises(targets.Refused):
        targets.resolve("http://10.0.0.5/", local=True, resolver=resolver_of("10.0.0.5"))
    with pytest.raises(targets.Refused):
        targets.resolve("https://hooks.example.org/", local=True, resolver=resolver_of("192.168.0.2"))


def test_post_sends_to_the_pinned_address_with_the_hosts_name_and_keeps_a_short_excerpt():
    receiver = Receiver(body=b"x" * 5000)
    try:
        port = int(receiver.url.split(":")[2].split("/")[0])
        target = targets.Target("http", "localhost", port, "/hooks?a=1", "127.0.0.1")
        answer = targets.post(target, b'{"id":"evt_1"}', {"Relais-Signature": "t=1,v1=00"}, timeout=5)
        (received,) = receiver.received
    finally:
        receiver.close()
    assert (answer.status, answer.error, answer.excerpt) == (200, None, "x" * targets.EXCERPT_CHARS)
    assert (received.path, received.headers["host"], received.body) == ("/hooks?a=1", f"localhost:{port}",
                                                                        b'{"id":"evt_1"}')
    assert received.headers["relais-signature"] == "t=1,v1=00"


def test_a_redirect_is_an_answer_that_is_not_followed():
    receiver = Receiver(statuses=(302,))
    try:
        port = int(receiver.url.split(":")[2].split("/")[0])
        answer = targets.post(targets.Target("http", "127.0.0.1", port, "/", "127.0.0.1"), b"{}", {}, timeout=5)
    finally:
        receiver.close()
    assert (answer.status, answer.error) == (302, "redirects are not followed")
    assert len(receiver.received) == 1


def test_an_endpoint_that_does_not_answer_in_time_is_a_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        answer = targets.post(targets.Target("http", "127.0.0.1", port, "/", "127.0.0.1"), b"{}", {}, timeout=0.3)
    assert (answer.status, answer.error) == (None, "timed out")


def test_a_signature_verifies_with_its_secret_within_five_minutes_only():
    secret, body = webhook_signature.new_secret(), b'{"id":"evt_x"}'
    header = webhook_signature.signature(secret, body, timestamp=1_800_000_000)
    assert webhook_signature.verify(secret, body, header, now=1_800_000_000 + 299)
    assert not webhook_signature.verify(secret, body, header, now=1_800_000_000 + 301)
    assert not webhook_signature.verify(secret, body + b" ", header, now=1_800_000_000)
    assert not webhook_signature.verify(webhook_signature.new_secret(), body, header, now=1_800_000_000)


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/relais", "https://127.0.0.1/relais", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook", "http://localhost:8080/hook",
])
def test_patch_refuses_each_ssrf_url_with_400_in_a_deployed_stage(api, monkeypatch, url):
    campaign, key = api.create_campaign()
    monkeypatch.setenv("RELAIS_STAGE", "prod")
    monkeypatch.setenv("RELAIS_TABLE_PREFIX", "relais-test-")  # the tables of this tier, under a deployed stage
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": url}, token=key)
    assert (response.status_code, response.data["error"]["code"]) == (400, "invalid_webhook_url")


def test_patch_accepts_a_loopback_url_in_a_local_stage(api):
    campaign, key = api.create_campaign()
    response = api.call("PATCH", f"/v1/campaigns/{campaign['id']}", {"webhook_url": "http://127.0.0.1:9/h"}, token=key)
    assert (response.status_code, response.data["campaign"]["webhook_url"]) == (200, "http://127.0.0.1:9/h")
