"""Schemathesis hooks for Herald (loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS).

The OpenAPI document names a few string formats of its own so that the fuzzer's "valid" inputs
are really valid: phone numbers, IANA time zones, ISO 3166 regions and configured provider names.
It also teaches the fuzzer to write the text/csv body of the contact import.
"""
import json
import os
import random
import re

import schemathesis
from hypothesis import strategies as st

# US numbers with real area codes and exchanges 200-999 (not 555, not N11), in E.164 and in the
# national formats the server normalizes with the organization's default country (US).
_AREA = st.sampled_from(["202", "212", "305", "312", "415", "512", "617", "704", "919", "971"])
_EXCHANGE = st.integers(200, 999).filter(lambda n: n != 555 and n % 100 != 11).map(str)
_LINE = st.integers(0, 9999).map(lambda n: f"{n:04d}")


def _render(parts):
    area, exchange, line, style = parts
    if style == 0:
        return f"+1{area}{exchange}{line}"
    if style == 1:
        return f"({area}) {exchange}-{line}"
    if style == 2:
        return f"{area}-{exchange}-{line}"
    return f"+1 {area} {exchange} {line}"


PHONES = st.tuples(_AREA, _EXCHANGE, _LINE, st.integers(0, 3)).map(_render)
schemathesis.openapi.format("phone", PHONES)

schemathesis.openapi.format("iana-time-zone", st.sampled_from([
    "UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "Europe/London", "Europe/Paris", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
]))

schemathesis.openapi.format("iso3166-alpha2", st.sampled_from(["US", "CA", "GB", "DE", "FR", "AU", "IN", "BR", "MX", "JP", "us", "gb"]))

schemathesis.openapi.format("provider-name", st.just("simulator"))

_CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)


def _csv(rows):
    out = ["phone,firstName,lastName,email,tags,team"]
    for phone, first, last, team in rows:
        cells = [phone, first, last, "", "vip;new", team]
        out.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    return ("\n".join(out) + "\n").encode("utf-8")


CSV = st.lists(st.tuples(PHONES | _CELL, _CELL, _CELL, _CELL), min_size=1, max_size=5).map(_csv)
schemathesis.openapi.media_type("text/csv", CSV)


# Ids of the data scripts/schemathesis.sh seeded, by resource ({"campaigns": [...], ...}).
_KNOWN_IDS = json.loads(os.environ.get("HERALD_FUZZ_IDS") or "{}")
_RESOURCE_PATH = re.compile(r"^/api/(contacts/imports|contacts|lists|segments|senders|campaigns)/\{id\}")
# A fixed seed: the same run makes the same choices.
_RNG = random.Random(20261204)
_AUDIENCE = ("segmentId", "contactFilter", "listIds", "recipients")


def _fresh_campaign(paused):
    """A new campaign scheduled far ahead (paused too when `paused`), made through the API, so
    that state changes on /api/campaigns/{id}/... meet a campaign in a state that allows them
    instead of the seeded one the first cancel already ended. None when it cannot be made."""
    import requests

    base, key = os.environ.get("HERALD_FUZZ_BASE"), os.environ.get("HERALD_FUZZ_KEY")
    segments = _KNOWN_IDS.get("segments")
    if not (base and key and segments):
        return None
    headers = {"Authorization": f"Bearer {key}"}
    body = {"name": "Fuzz target", "message": "Hi {{firstName}}", "segmentId": _RNG.choice(segments),
            "scheduledFor": "2035-01-02T15:00:00Z"}
    made = requests.post(f"{base}/api/campaigns", json=body, headers=headers, timeout=20)
    if made.status_code != 201:
        return None
    campaign = made.json()["id"]
    if paused and requests.post(f"{base}/api/campaigns/{campaign}/pause", headers=headers, timeout=20).status_code != 200:
        return None
    return campaign


_STATE_CHANGES = re.compile(r"^/api/campaigns/\{id\}/(pause|resume|cancel|unschedule|test|duplicate|estimate)$")


def _use_known_ids(case):
    """Sends about half of the requests on /api/<resource>/{id} to a seeded resource (random ids
    only ever reach the 404 path), and gives about half of the campaign bodies that name no
    audience a seeded segment and a message, so that launches, drafts and estimates run."""
    match = _RESOURCE_PATH.match(case.path)
    ids = _KNOWN_IDS.get(match.group(1)) if match else None
    if ids and case.path_parameters and "id" in case.path_parameters and _RNG.random() < 0.5:
        case.path_parameters["id"] = _RNG.choice(ids)
        change = _STATE_CHANGES.match(case.path)
        if change and _RNG.random() < 0.7:
            case.path_parameters["id"] = _fresh_campaign(paused=change.group(1) == "resume") or case.path_parameters["id"]
    # A launch naming a random draft id is always a 404-like 422: most launches name none.
    if (case.method.upper() == "POST" and case.path == "/api/campaigns" and isinstance(case.body, dict)
            and "draftId" in case.body and _RNG.random() < 0.8):
        del case.body["draftId"]
    if (case.method.upper() == "POST" and case.path in ("/api/campaigns", "/api/campaigns/estimate", "/api/campaigns/draft")
            and isinstance(case.body, dict) and not any(k in case.body for k in _AUDIENCE)
            and _KNOWN_IDS.get("segments") and _RNG.random() < 0.5):
        case.body["segmentId"] = _RNG.choice(_KNOWN_IDS["segments"])
        case.body.setdefault("name", "Fuzzed")
        if not any(k in case.body for k in ("message", "messageVariantA", "template")):
            case.body["message"] = "Hello {{firstName}}"


@schemathesis.hook
def before_call(context, case, kwargs):
    """Makes every well-formed Idempotency-Key unique: the fuzzer draws few distinct values, and a
    key reused with another request is (correctly) a 409, which would hide every POST's own
    behaviour. Empty and over-long keys are kept, so their 400 is still exercised. The replay
    semantics are tested by the Swift suites."""
    import uuid

    # The fuzzer's own admin key (its id from HERALD_FUZZ_OWN_KEY_ID): revoking it would turn every
    # later request of the run into a 401, so a DELETE of exactly that key is sent for an unknown
    # id instead (a 404). Revocation itself is tested by the Swift suites.
    _use_known_ids(case)
    own_key = os.environ.get("HERALD_FUZZ_OWN_KEY_ID")
    if (own_key and case.method.upper() == "DELETE" and case.path == "/api/api-keys/{id}"
            and case.path_parameters and case.path_parameters.get("id") == own_key):
        case.path_parameters["id"] = str(uuid.uuid4())

    for headers in (case.headers, kwargs.get("headers")):
        if not headers:
            continue
        for name in list(headers):
            if name.lower() == "idempotency-key":
                value = headers[name]
                if isinstance(value, str) and 1 <= len(value) <= 255:
                    headers[name] = str(uuid.uuid4())
