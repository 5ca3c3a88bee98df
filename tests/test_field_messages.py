"""Every message a schema of the platform can answer with reads in Chinese.

The schemas are found where requests meet them: every view of the gateway's and each service's app
(flask-smorest keeps a view's argument and response schemas on it), walked into nested, list,
tuple and mapping fields. For each field, every entry of its ``error_messages`` (marshmallow's
defaults and any a schema set) is filled in as marshmallow fills it; for each ``validate.*``
validator, the messages it raises. Each must render in Chinese through the path problems take
(``shared.http.problems``). A new field class or validator whose words the kernel's catalogue
lacks fails here, naming it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, fields, validate

from gateway.app import create_app as gateway_app
from shared.http.field_messages import field_message
from shared.i18n import Message, render
from shared.settings import SERVICES, Settings

CHINESE = re.compile(r"[\u4e00-\u9fff]")
SAMPLE_INPUT = "x1"


def apps(settings: Settings) -> Iterator[tuple[str, Flask]]:
    yield "gateway", gateway_app(settings)
    for name in SERVICES:
        yield name, importlib.import_module(f"services.{name}.app").create_app(settings)


def views(app: Flask) -> Iterator[Any]:
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            yield view
            continue
        for method in view_class.methods or ():
            yield getattr(view_class, method.lower())


def schemas(view: Any) -> Iterator[Schema]:
    doc = getattr(view, "_apidoc", {})
    found = [parameter.get("schema") for parameter in doc.get("arguments", {}).get("parameters", [])]
    for responses in doc.get("response", {}).get("responses", {}).values():
        found += [response.get("schema") for response in responses]
    for schema in found:
        if isinstance(schema, type) and issubclass(schema, Schema):
            yield schema()
        elif isinstance(schema, Schema):
            yield schema


def fields_of(field: fields.Field) -> Iterator[fields.Field]:
    """``field`` and every field inside it."""
    yield field
    inner: list[fields.Field | None] = []
    if isinstance(field, fields.Nested | fields.Pluck):
        schema = field.schema
        inner += list(schema.fields.values())
    if isinstance(field, fields.List):
        inner.append(field.inner)
    if isinstance(field, fields.Tuple):
        inner += list(field.tuple_fields)
    if isinstance(field, fields.Mapping):
        inner += [field.key_field, field.value_field]
    for each in inner:
        if each is not None:
            yield from fields_of(each)


def validators_of(validator: Any) -> Iterator[Any]:
    if isinstance(validator, validate.And):
        for each in validator.validators:
            yield from validators_of(each)
    else:
        yield validator


def field_texts(field: fields.Field) -> Iterator[tuple[str, Any]]:
    """Each of ``field``'s messages as marshmallow fills it in (values of the field, a sample input)."""
    values = {
        "input": SAMPLE_INPUT,
        "obj_type": getattr(field, "OBJ_TYPE", ""),
        "awareness": getattr(field, "AWARENESS", ""),
        "choices": getattr(field, "choices_text", "a, b"),
    }
    for key, message in field.error_messages.items():
        if key == "invalid_awareness" and not values["awareness"]:
            continue  # raised by the aware and naive datetime fields only
        text = message if isinstance(message, Message) else str(message).format(**values)
        yield f"{type(field).__name__}.{key}", text


def validator_texts(validator: Any) -> Iterator[tuple[str, Any]]:
    """Each message ``validator`` may raise, as it fills it in."""
    name = type(validator).__name__
    if isinstance(validator, validate.Range | validate.Length):
        messages = {"message_all"} if validator.min is not None and validator.max is not None else set()
        messages |= {"message_min"} if validator.min is not None and validator.max is None else set()
        messages |= {"message_max"} if validator.max is not None and validator.min is None else set()
        if isinstance(validator, validate.Length) and validator.equal is not None:
            messages = {"message_equal"}
        for message in sorted(messages):
            yield f"{name}.{message}", validator._format_error(SAMPLE_INPUT, getattr(validator, message))
    elif isinstance(validator, validate.Validator) and hasattr(validator, "_format_error"):
        yield (
            name,
            validator._format_error([SAMPLE_INPUT] if isinstance(validator, validate.ContainsOnly) else SAMPLE_INPUT),
        )
    # A plain function is a schema's own check: its messages are its own (marked where written).


def untranslated(text: Any) -> bool:
    rendered = render(text, "zh") if isinstance(text, Message) else field_message(text, "zh")
    return not CHINESE.search(rendered)


def test_every_field_and_validator_message_of_every_schema_reads_in_chinese(settings: Settings) -> None:
    seen_fields: set[str] = set()
    seen_validators: set[str] = set()
    missing: dict[str, str] = {}
    for app_name, app in apps(settings):
        for view in views(app):
            for schema in schemas(view):
                for top in schema.fields.values():
                    for field in fields_of(top):
                        seen_fields.add(type(field).__name__)
                        for where, text in field_texts(field):
                            if untranslated(text):
                                missing.setdefault(str(text), f"{app_name}: {where}")
                        for validator in field.validators:
                            for each in validators_of(validator):
                                seen_validators.add(type(each).__name__)
                                for where, text in validator_texts(each):
                                    if untranslated(text):
                                        missing.setdefault(str(text), f"{app_name}: {where}")
    # The walk reaches what the schemas really use (else it proves nothing).
    assert {"String", "Integer", "Nested", "List", "ParkTime", "UUID", "Boolean"} <= seen_fields, seen_fields
    assert {"Range", "Length", "OneOf"} <= seen_validators, seen_validators
    assert not missing, "English left in Chinese answers:\n" + "\n".join(f"{w}: {t!r}" for t, w in missing.items())


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Not a valid aware datetime.", "不是带时区的有效日期时间。"),
        ("Special numeric values (nan or infinity) are not permitted.", "不允许特殊数值（nan 或 infinity）。"),
        ('"x1" cannot be formatted as a datetime.', "“x1”无法格式化为日期时间。"),
        ("Length must be 6.", "长度须为 6。"),
    ],
)
def test_templated_and_filled_messages_read_as_a_person_would_write_them(english: str, chinese: str) -> None:
    assert field_message(english, "zh") == chinese
    assert field_message(english, "en") == english


def test_a_time_without_an_offset_is_refused_in_chinese_over_http(park: Any) -> None:
    body = {"space_id": "00000000-0000-4000-8000-000000000001", "start": "2027-01-08T10:00:00", "title": "Board"}
    response = park.as_user(
        "alice", "POST", "/api/v1/booking/reservations", json=body, headers={"Accept-Language": "zh"}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["errors"]["start"] == ["不是带时区的有效日期时间。"]
    english = park.as_user("alice", "POST", "/api/v1/booking/reservations", json=body)
    assert english.json["errors"]["start"] == ["Not a valid aware datetime."]
