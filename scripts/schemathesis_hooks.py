"""Schemathesis hooks for Herald (loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS).

The OpenAPI document names a few string formats of its own so that the fuzzer's "valid" inputs
are really valid: phone numbers, IANA time zones, ISO 3166 regions and configured provider names.
It also teaches the fuzzer to write the text/csv body of the contact import.
"""
import os

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
