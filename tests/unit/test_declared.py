"""Each table is declared once (the PynamoDB models of ``chalicelib/store/schema.py``); the
records and the codec's attribute declarations the request path imports are generated from
it (``chalicelib/store/declared.py``), never kept by hand."""
from __future__ import annotations

import dataclasses

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store import declared, generate, schema
from chalicelib.store.records import Campaign, Link


def test_the_generated_module_is_what_the_models_give_today():
    """Fails after a model changed without ``make generate`` (or after a hand edit)."""
    assert generate.TARGET.read_text(encoding="utf-8") == generate.source()


@pytest.mark.parametrize("record", schema.RECORDS, ids=lambda record: record.name)
def test_each_record_has_a_field_for_every_declared_attribute_it_does_not_leave_out(record):
    fields = {f.name for f in dataclasses.fields(getattr(declared, record.name))}
    attributes = set(record.declaration.get_attributes()) - set(record.leaves_out)
    assert fields == attributes | {name for name, _, _ in record.extra}


def test_a_link_nobody_referred_has_depth_one_in_the_model_the_codec_and_the_record():
    assert schema.LinkModel.get_attributes()["depth"].default == 1
    assert declared.LINK["depth"].default is not None and declared.LINK["depth"].default() == 1
    assert Link(code="abcd", campaign_id="c", created_at=None).depth == 1  # type: ignore[arg-type]


def test_an_attribute_added_to_a_model_reaches_its_record_and_its_codec():
    """What adding a field takes: one line in the model; the generator does the rest."""
    class CampaignWithPage(schema.CampaignModel):
        pledge_page = UnicodeAttribute(null=True)

    record = generate.record_source(schema.Record("CampaignFields", CampaignWithPage, frozen=False))
    assert record.endswith("    pledge_page: str | None = None")
    assert "    id: str\n" in record and "    window_days: int = 30\n" in record
    codec = generate.codec_source("CAMPAIGN", CampaignWithPage)
    assert '    "pledge_page": Attribute("S"),\n' in codec
    without = codec.replace('    "pledge_page": Attribute("S"),\n', "")
    assert without == generate.codec_source("CAMPAIGN", schema.CampaignModel)


def test_a_map_attribute_of_its_own_is_one_record_field_and_one_map_in_the_codec():
    record = generate.record_source(schema.Record("CampaignFields", schema.CampaignModel, frozen=False))
    assert "    platform: Platform | None = None" in record.splitlines()
    assert declared.CAMPAIGN["platform"].kind == "M"
    assert declared.CAMPAIGN["platform"].members == (("name", "S"), ("tag_param", "S"), ("tag_per", "S"))
    assert declared.CAMPAIGN["platform"].record is declared.Platform


def test_a_map_whose_record_is_not_declared_or_that_nests_a_list_is_refused_at_generation():
    from pynamodb.attributes import ListAttribute, MapAttribute

    class Unrecorded(MapAttribute):
        label = UnicodeAttribute()

    class Nesting(MapAttribute):
        labels = ListAttribute(of=UnicodeAttribute)

    with pytest.raises(generate.UnsupportedAttribute, match="Unrecorded has no record"):
        generate.kind_of(Unrecorded(null=True))
    with pytest.raises(generate.UnsupportedAttribute, match="Nesting nests \\['labels'\\]"):
        generate._members(Nesting)


def test_a_kind_the_codec_cannot_store_is_refused_at_generation():
    from pynamodb.attributes import JSONAttribute

    class Odd(Model):
        class Meta:
            table_name = "odd"

        id = UnicodeAttribute(hash_key=True)
        blob = JSONAttribute(null=True)
        count = NumberAttribute(default=0)

    with pytest.raises(generate.UnsupportedAttribute, match="JSONAttribute"):
        generate.kind_of(Odd.get_attributes()["blob"])


def test_the_campaign_record_adds_only_methods_to_the_generated_fields():
    generated = [f.name for f in dataclasses.fields(declared.CampaignFields)]
    assert [f.name for f in dataclasses.fields(Campaign)] == generated
