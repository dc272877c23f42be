"""Schemathesis hooks for `make contract` (loaded by tests/contract/schemathesis.toml).

Two things a schema cannot say. First, one documented rule of the API that a schema would have to repeat on every field: in a JSON
request body, `null` for a field that is not required means the field was not given (the old
service's clients send `null` for unset values and empty lists; api/openapi.yaml's
introduction). This hook writes that rule into the schema the fuzzer reads, so that a request
with such a `null` counts as valid and any other wrong type still has to be refused. Second,
which ids and slugs name resources that exist (below).
"""

import hashlib
import json
import os

import schemathesis
from schemathesis.core.parameters import ParameterLocation


def _nullable(schema):
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return schema
    if isinstance(kind, str) and set(schema) <= {"type", "format", "minLength", "maxLength", "pattern",
                                                  "minimum", "maximum", "items", "description",
                                                  "default", "example", "additionalProperties",
                                                  "properties", "required"}:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _optional_fields_nullable(schema, components, seen):
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _optional_fields_nullable(components.get(name), components, seen)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            _optional_fields_nullable(part, components, seen)
    # The rule holds at every depth: in the objects of a list (an alert's `labels`) and in
    # nested objects.
    _optional_fields_nullable(schema.get("items"), components, seen)
    required = set(schema.get("required", []))
    for name, field in (schema.get("properties") or {}).items():
        _optional_fields_nullable(field, components, seen)
        if name not in required:
            schema["properties"][name] = _nullable(field)


@schemathesis.hook
def before_load_schema(context, raw_schema):
    components = raw_schema.get("components", {}).get("schemas", {})
    seen = set()
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            body = content.get("application/json")
            if body:
                _optional_fields_nullable(body.get("schema"), components, seen)


# Existing resources (tests/contract/fixtures.py wrote them; scripts/contract.sh names the file):
# in about half the cases whose path is meant to be valid, the fuzzer's invented id or slug is
# replaced by one that names a real resource, so an operation on `/things/{id}` is fuzzed past
# "not found". Cases whose path is meant to be invalid keep it: replacing it would turn a
# request the API must refuse into one it may accept. The choice is a digest of the rest of
# the case, so a run stays reproducible from its seed.
_EXISTING = {}
if os.environ.get("CONTRACT_FIXTURES"):
    with open(os.environ["CONTRACT_FIXTURES"]) as fixtures:
        _EXISTING = json.load(fixtures)


@schemathesis.hook
def map_case(context, case):
    existing = _EXISTING.get(case.operation.path)
    meta = case.meta
    if not existing or meta is None:
        return case
    path = meta.components.get(ParameterLocation.PATH)
    if path is not None and path.mode.is_negative:
        return case
    seed = repr((case.method, case.path_parameters, case.query, case.body)).encode()
    digest = int.from_bytes(hashlib.sha256(seed).digest(), "big")
    if digest % 2:
        return case
    chosen = {}
    for shift, (name, values) in enumerate(existing.items(), start=1):
        chosen[name] = values[(digest >> (16 * shift)) % len(values)]
    case.path_parameters = {**case.path_parameters, **chosen}
    return case
