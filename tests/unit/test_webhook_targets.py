"""SSRF: a webhook goes only to public https hosts in a deployed stage, checked after DNS
resolution (the resolver is a stub: nothing here connects anywhere); and the signature
receivers verify."""
from __future__ import annotations

import socket

import pytest

from chalicelib.outbound import targets, webhook_signature


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


def test_a_signature_verifies_with_its_secret_within_five_minutes_only():
    secret, body = webhook_signature.new_secret(), b'{"id":"evt_x"}'
    header = webhook_signature.signature(secret, body, timestamp=1_800_000_000)
    assert webhook_signature.verify(secret, body, header, now=1_800_000_000 + 299)
    assert not webhook_signature.verify(secret, body, header, now=1_800_000_000 + 301)
    assert not webhook_signature.verify(secret, body + b" ", header, now=1_800_000_000)
    assert not webhook_signature.verify(webhook_signature.new_secret(), body, header, now=1_800_000_000)
