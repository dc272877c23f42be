"""Schemathesis hooks for `make contract` (loaded by tests/contract/schemathesis.toml).

Two things a schema cannot say. First, one documented rule of the API that a schema would have to repeat on every field: in a JSON
request body, `null` for a field that is not required means the field was not given (the old
service's clients send `null` for unset values and empty lists; api/openapi.yaml's
introduction). This hook writes that rule into the schema the fuzzer reads, so that a request
with such a `null` counts as valid and any other wrong type still has to be refused. Second,
which ids and slugs name resources that exist (below).
"""

import json
import os

import schemathesis
from hypothesis import strategies as st


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
    required = set(schema.get("required", []))
    for name, field in (schema.get("properties") or {}).items():
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
# beside each invented id or slug, the fuzzer also tries one that names a real resource, so an
# operation on `/things/{id}` is fuzzed past "not found".
_EXISTING = {}
if os.environ.get("CONTRACT_FIXTURES"):
    with open(os.environ["CONTRACT_FIXTURES"]) as fixtures:
        _EXISTING = json.load(fixtures)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    existing = _EXISTING.get(context.operation.path) if context.operation else None
    if not existing:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in existing.items()})
    return st.one_of(st.just(path_parameters), real.map(lambda values: {**path_parameters, **values}))
