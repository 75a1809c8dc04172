"""The recount's pure parts: a held record's image compared with what a read saw."""


def test_an_image_read_back_with_its_set_members_in_another_order_is_the_same_image():
    """A held record is recognised as already read whatever order DynamoDB lists a set in."""
    from chalicelib.store import events_table

    held = {"kind": {"S": "visit"}, "toks": {"SS": ["b", "a"]}}
    assert events_table.same_image(held, {"toks": {"SS": ["a", "b"]}, "kind": {"S": "visit"}})
    assert not events_table.same_image(held, {"kind": {"S": "visit"}, "toks": {"SS": ["a", "b", "c"]}})
    assert not events_table.same_image(held, None)
