"""Who counts as one visitor for the rate limits: an IPv4 address, an IPv6 /64 (and its /48),
whatever way the address is written."""
from __future__ import annotations

import pytest

from chalicelib.hotpath.rate_limits import UNREADABLE, networks


@pytest.mark.parametrize(("address", "expected"), [
    ("198.51.100.7", ("198.51.100.7",)),
    ("::ffff:198.51.100.7", ("198.51.100.7",)),
    ("::ffff:c633:6407", ("198.51.100.7",)),
    ("[::ffff:198.51.100.7]", ("198.51.100.7",)),
])
def test_an_ipv4_address_is_one_visitor_however_it_is_written(address, expected):
    assert networks(address) == expected


@pytest.mark.parametrize("address", [
    "2001:db8:1:2::7",
    "2001:db8:1:2:ffff:ffff:ffff:ffff",
    "2001:0DB8:0001:0002:0000:0000:0000:0001",
    "[2001:db8:1:2::7]",
    " 2001:db8:1:2::7 ",
    "2001:db8:1:2::7%eth0",
])
def test_an_ipv6_address_counts_against_its_64_then_its_48(address):
    assert networks(address) == ("2001:db8:1:2::/64", "2001:db8:1::/48")


def test_two_64s_of_one_48_are_two_visitors_of_one_network():
    first, second = networks("2001:db8:1:2::7"), networks("2001:db8:1:3::7")
    assert (first[0] != second[0], first[1] == second[1]) == (True, True)


def test_a_link_local_address_with_a_zone_id_is_its_address_without_it():
    assert networks("fe80::1:2:3:4%en0") == networks("fe80::1:2:3:4") == ("fe80::/64", "fe80::/48")


@pytest.mark.parametrize("address", [
    "", "   ", "unknown", "198.51.100.256", "198.51.100", "01.2.3.4", "2001:db8::g", "2001:db8:::1",
    "2001:db8::1%", "[2001:db8::1", "198.51.100.7:46532", "%eth0",
])
def test_an_address_that_cannot_be_read_counts_in_the_one_bucket_of_unreadable_addresses(address):
    assert networks(address) == (UNREADABLE,)
