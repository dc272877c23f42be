"""Resources for `make contract` to find: run once before the fuzzing, against the fresh database.

A fuzzer invents ids and slugs, so on its own every operation on `/things/{id}` only ever meets
"not found". This script signs in as the development seed's admin, creates one resource of each
kind through the API (an incident, a planned maintenance, a template, an integration, an API
key, the admin's e-mail, Telegram and webhook channels and the deliveries the incident queued
for them) and writes, for each path of api/openapi.yaml that names a resource, the values that name
real ones. tests/contract/hooks.py hands the fuzzer those values beside its own inventions, so
reads, updates, archives and deletes of existing resources are fuzzed too.

Usage: fixtures.py <base URL> <output file> <URL of a webhook receiver that answers 200>
"""

import json
import sys
import urllib.request

BASE, OUT, RECEIVER = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, token=None, body=None):
    request = urllib.request.Request(BASE + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data) as response:
            return json.load(response)["data"]
    except urllib.error.HTTPError as error:
        sys.exit(f"contract fixtures: {method} {path} answered {error.code}: {error.read().decode()}")


signed_in = call("POST", "/api/v1/auth/login", body={"email": "admin@example.com", "password": "admin123"})
admin = signed_in["tokens"]["access_token"]
services = {s["slug"]: s["id"] for s in call("GET", "/api/v1/services", admin)}
groups = [g["slug"] for g in call("GET", "/api/v1/groups", admin)]
users = [u["id"] for u in call("GET", "/api/v1/users", admin)]

channels = [
    call("POST", "/api/v1/me/channels", admin, body)["id"]
    for body in (
        {"type": "webhook", "target": RECEIVER, "subscribe_to_all_services": True},
        {"type": "email", "target": "admin@example.com", "subscribe_to_all_services": True},
        {"type": "telegram", "subscribe_to_all_services": True},
    )
]
incident = call(
    "POST",
    "/api/v1/events",
    admin,
    {
        "type": "incident",
        "status": "investigating",
        "severity": "major",
        "title": "Elevated API errors",
        "message": "We are looking into it.",
        "notify_subscribers": True,
        "affected_services": [{"service_id": services["api"], "status": "partial_outage"}],
    },
)
maintenance = call(
    "POST",
    "/api/v1/events",
    admin,
    {
        "type": "maintenance",
        "status": "scheduled",
        "title": "Database upgrade",
        "scheduled_start_at": "2030-01-01T02:00:00Z",
        "scheduled_end_at": "2030-01-01T03:00:00Z",
        "affected_services": [{"service_id": services["database"], "status": "maintenance"}],
    },
)
template = call(
    "POST",
    "/api/v1/templates",
    admin,
    {"slug": "api-outage", "type": "incident", "title_template": "{{service_names}}: {{status}}"},
)
integration = call(
    "POST",
    "/api/v1/webhooks/integrations",
    admin,
    {"name": "Prometheus", "slug": "prometheus", "kind": "alertmanager", "fallback_service_id": services["api"]},
)
key = call("POST", "/api/v1/api-keys", admin, {"name": "CI", "role": "operator", "scopes": ["read", "events:write"]})

events = [incident["id"], maintenance["id"]]
deliveries = [d["id"] for d in call("GET", "/api/v1/notifications/deliveries", admin)]
if not deliveries:
    sys.exit("contract fixtures: the incident queued no delivery for the admin's webhook channel")
existing = {
    "/api/v1/services/{slug}": {"slug": list(services)},
    "/api/v1/services/{slug}/restore": {"slug": list(services)},
    "/api/v1/services/{slug}/tags": {"slug": list(services)},
    "/api/v1/services/{slug}/status-log": {"slug": list(services)},
    "/api/v1/services/{slug}/events": {"slug": list(services)},
    "/api/v1/services/{slug}/uptime": {"slug": list(services)},
    "/api/v1/groups/{slug}": {"slug": groups},
    "/api/v1/groups/{slug}/restore": {"slug": groups},
    "/api/v1/events/{id}": {"id": events},
    "/api/v1/events/{id}/updates": {"id": events},
    "/api/v1/events/{id}/changes": {"id": events},
    "/incidents/{id}": {"id": events},
    "/api/v1/templates/{slug}": {"slug": [template["slug"]]},
    "/api/v1/templates/{slug}/preview": {"slug": [template["slug"]]},
    "/api/v1/webhooks/integrations/{id}": {"id": [integration["id"]]},
    "/api/v1/webhooks/integrations/{id}/rotate-secret": {"id": [integration["id"]]},
    "/api/v1/webhooks/{kind}/{slug}": {"kind": ["alertmanager"], "slug": [integration["slug"]]},
    "/api/v1/users/{id}": {"id": users},
    "/api/v1/users/{id}/deactivate": {"id": users},
    "/api/v1/users/{id}/reactivate": {"id": users},
    "/api/v1/users/{id}/reset-password": {"id": users},
    "/api/v1/api-keys/{id}": {"id": [key["id"]]},
    "/api/v1/me/channels/{id}": {"id": channels},
    "/api/v1/me/channels/{id}/verify": {"id": channels},
    "/api/v1/me/channels/{id}/resend-code": {"id": channels},
    "/api/v1/me/channels/{id}/subscriptions": {"id": channels},
    "/api/v1/notifications/deliveries/{id}/retry": {"id": deliveries},
    "/badge/{file}": {"file": [f"{slug}.svg" for slug in services] + [f"{slug}.json" for slug in services]},
}
with open(OUT, "w") as out:
    json.dump(existing, out, indent=2)
print(f"contract fixtures: {sum(len(v) for p in existing.values() for v in p.values())} existing values for "
      f"{len(existing)} paths in {OUT}", file=sys.stderr)
