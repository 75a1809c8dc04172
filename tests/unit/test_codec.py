"""The store's codec stores each attribute exactly as the PynamoDB models (the schema the
tables and the CDK stack are built from) declare it, without importing PynamoDB itself."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.store import codec, declared
from chalicelib.store.schema import CampaignModel, EventModel, LinkModel

DECLARED = {"campaigns": (declared.CAMPAIGN, CampaignModel), "links": (declared.LINK, LinkModel),
            "events": (declared.EVENT, EventModel)}
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))])
MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=ZONES)
TEXT = st.text(max_size=12)
WHOLE = st.integers(min_value=-10**15, max_value=10**15)


def kind_in_model(attribute) -> tuple:
    """What the model says of one attribute, in the codec's terms (PynamoDB's public API)."""
    if isinstance(attribute, MapAttribute):
        return "M", {name: kind_in_model(member)[0] for name, member in attribute.get_attributes().items()}
    if isinstance(attribute, ListAttribute):
        element = attribute.element_type
        if isinstance(element, type) and issubclass(element, MapAttribute):
            return "LM", {name: kind_in_model(member)[0] for name, member in element.get_attributes().items()}
        assert element is UnicodeAttribute
        return "LS", {}
    for attribute_class, kind in ((UTCDateTimeAttribute, "DATE"), (TTLAttribute, "TTL"),
                                  (UnicodeSetAttribute, "SS"), (BooleanAttribute, "BOOL"),
                                  (NumberAttribute, "N"), (UnicodeAttribute, "S")):
        if isinstance(attribute, attribute_class):
            return kind, {}
    raise AssertionError(f"an attribute type the codec does not know: {type(attribute).__name__}")


def default_of(default):
    return default() if callable(default) else default


@pytest.mark.parametrize("table", sorted(DECLARED))
def test_each_table_declares_the_attributes_types_defaults_and_requiredness_of_its_model(table):
    attributes, model = DECLARED[table]
    in_model = {name: (*kind_in_model(attribute), not attribute.null, default_of(attribute.default))
                for name, attribute in model.get_attributes().items()}
    in_codec = {name: (a.kind, dict(a.members), a.required, default_of(a.default)) for name, a in attributes.items()}
    assert in_codec == in_model


def strategy(attribute: codec.Attribute):
    kind = attribute.kind
    if kind in ("LM", "M"):
        members = st.fixed_dictionaries({name: WHOLE if member_kind == "N" else TEXT
                                         for name, member_kind in attribute.members})
        if kind == "LM":
            return st.lists(members, max_size=3)
        return members if attribute.required else st.none() | members
    value = {"S": TEXT, "N": WHOLE, "BOOL": st.booleans(), "DATE": MOMENTS, "TTL": MOMENTS,
             "SS": st.sets(TEXT, max_size=4), "LS": st.lists(TEXT, max_size=3)}[kind]
    return value if attribute.required and attribute.default is None else st.none() | value


def values_of(table: str):
    attributes, _ = DECLARED[table]
    return st.fixed_dictionaries({name: strategy(attribute) for name, attribute in attributes.items()})


def for_the_model(model, values: dict) -> dict:
    """The same values as PynamoDB takes them (maps as MapAttribute instances)."""
    converted = {}
    for name, value in values.items():
        if value is None:
            continue
        attribute = model.get_attributes()[name]
        if isinstance(attribute, MapAttribute):
            value = type(attribute)(**value)
        elif isinstance(attribute, ListAttribute) and attribute.element_type is not UnicodeAttribute:
            value = [attribute.element_type(**element) for element in value]
        converted[name] = value
    return converted


def from_the_model(model, item: dict, attributes: dict) -> dict:
    """What the model reads of ``item``, maps as the declared records (``Milestone``…)."""
    instance = model.from_raw_data(item)
    values = {}
    for name in model.get_attributes():
        value = getattr(instance, name)
        if isinstance(value, MapAttribute):
            value = attributes[name].record(**{member: getattr(value, member) for member in value.get_attributes()})
        elif isinstance(value, list) and value and isinstance(value[0], MapAttribute):
            value = [attributes[name].record(**{member: getattr(element, member)
                                                for member in element.get_attributes()}) for element in value]
        values[name] = value
    return values


@pytest.mark.parametrize("table", sorted(DECLARED))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_items_are_those_the_models_serialize_and_read_back_as_the_models_read_them(table, data):
    attributes, model = DECLARED[table]
    values = data.draw(values_of(table))
    item = codec.to_item(attributes, values)
    assert item == model(**for_the_model(model, values)).serialize()
    assert codec.from_item(attributes, item) == from_the_model(model, item, attributes)


def test_an_item_missing_a_declared_attribute_reads_as_its_default_as_the_model_reads_it():
    item = {"code": {"S": "abcd1234"}, "campaign_id": {"S": "c1"}, "name": {"NULL": True},
            "created_at": {"S": "2026-11-29T19:36:06.123456+0000"}}
    assert codec.from_item(declared.LINK, item) == from_the_model(LinkModel, item, declared.LINK)
    assert codec.from_item(declared.LINK, item)["depth"] == 1


def test_a_value_of_the_wrong_type_is_refused_rather_than_read_as_something_else():
    with pytest.raises(ValueError, match="not a N value"):
        codec.from_item(declared.EVENT, {"pk": {"S": "c#1"}, "sk": {"S": "x"}, "kind": {"S": "pledge"},
                                      "campaign_id": {"S": "c"}, "amount": {"S": "12"}})
    with pytest.raises(ValueError, match="not a UTC date"):
        codec.from_item(declared.LINK, {"code": {"S": "a"}, "campaign_id": {"S": "c"},
                                     "created_at": {"S": "yesterday"}})


def test_a_map_attribute_is_stored_as_one_map_and_read_back_as_its_record():
    platform = declared.Platform(name="kickstarter", tag_param="ref", tag_per="fan")
    attributes = {"platform": declared.CAMPAIGN["platform"]}
    item = codec.to_item(attributes, {"platform": platform})
    assert item == {"platform": {"M": {"name": {"S": "kickstarter"}, "tag_param": {"S": "ref"},
                                       "tag_per": {"S": "fan"}}}}
    assert codec.from_item(attributes, item) == {"platform": platform}
    assert codec.from_item(attributes, {}) == {"platform": None}
    assert codec.update(attributes, {"platform": None}) == ("REMOVE #u0", {"#u0": "platform"}, {})


def test_a_map_missing_a_member_is_refused_either_way():
    attributes = {"platform": declared.CAMPAIGN["platform"]}
    with pytest.raises(ValueError, match="attribute 'tag_per' cannot be empty"):
        codec.to_item(attributes, {"platform": {"name": "goteo", "tag_param": "ref", "tag_per": None}})
    with pytest.raises(ValueError, match="not a M value"):
        codec.from_item(attributes, {"platform": {"L": []}})


def test_writing_an_undeclared_or_a_missing_required_attribute_is_an_error():
    with pytest.raises(ValueError, match="undeclared attributes: \\['nickname'\\]"):
        codec.to_item(declared.LINK, {"code": "a", "campaign_id": "c", "created_at": datetime.now(UTC),
                                   "nickname": "x"})
    with pytest.raises(ValueError, match="attribute 'campaign_id' is required"):
        codec.to_item(declared.LINK, {"code": "a", "created_at": datetime.now(UTC)})


WITHOUT_PYNAMODB = """
import importlib, pkgutil, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pynamodb":
            raise ImportError("PynamoDB is not in the Lambda package")

sys.meta_path.insert(0, Blocked())
import app
import chalicelib
schema_only = {"chalicelib.store.schema", "chalicelib.store.specs", "chalicelib.store.tables",
               "chalicelib.store.generate"}
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    if module.name not in schema_only:
        importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.startswith("chalicelib.")))
"""


def test_every_module_the_lambda_runs_imports_without_pynamodb():
    """The package leaves PynamoDB out (it only declares the schema): app.py and every module
    of chalicelib but the schema's three must import without it; the redirect's cold path
    gains ~10 ms by not importing it."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", WITHOUT_PYNAMODB], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    imported = set(ast.literal_eval(out.stdout))
    assert {"chalicelib.store.codec", "chalicelib.store.events_table", "chalicelib.aggregate.counting",
            "chalicelib.read.stats"} <= imported
