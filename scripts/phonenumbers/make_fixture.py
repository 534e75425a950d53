#!/usr/bin/env python3
"""Write Tests/PhoneNumbersTests/Fixtures/conformance.tsv: libphonenumber's verdict on sample inputs.

For every region (and every non-geographic country calling code) the example number of every
number type is rendered in several formats (E.164, international, national, RFC 3966, out-of-country
dialling with the caller's IDD, country code without '+', punctuation and full-width variants,
extensions) and mutated (dropped, added, changed digits, truncation), plus random digit strings and
inputs with random punctuation/junk inserted (no letters: the Swift parser rejects letters, see README).
Each input is run through phonenumbers.parse + is_valid_number and the result is recorded.

File format (UTF-8, tab separated, deterministic order):
    #version <phonenumbers version>
    #tz <index> <zone|zone|...>           time zone lists referenced by the cases
    <input> <default region> ok <E.164> <type> <region> <tz index>
    <input> <default region> err <code>
Codes are the Swift PhoneNumberError.Code names; types are PhoneNumberType case names.
A tz index of -1 means libphonenumber returned Etc/Unknown (the Swift API returns []).
"""
import os
import random
import sys

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import ValidationResult
from phonenumbers.timezone import time_zones_for_number

PINNED_VERSION = "9.0.43"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "PhoneNumbersTests", "Fixtures", "conformance.tsv")

TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixedLine", PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixedLineOrMobile", PhoneNumberType.TOLL_FREE: "tollFree",
    PhoneNumberType.PREMIUM_RATE: "premiumRate", PhoneNumberType.SHARED_COST: "sharedCost",
    PhoneNumberType.VOIP: "voip", PhoneNumberType.PERSONAL_NUMBER: "personalNumber",
    PhoneNumberType.PAGER: "pager", PhoneNumberType.UAN: "uan", PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalidCountryCode",
    NumberParseException.NOT_A_NUMBER: "notANumber",
    NumberParseException.TOO_SHORT_AFTER_IDD: "tooShort",
    NumberParseException.TOO_SHORT_NSN: "tooShort",
    NumberParseException.TOO_LONG: "tooLong",
}
DESCS = ["fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
         "pager", "uan", "voicemail"]
FULLWIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


def verdict(text, region):
    try:
        n = phonenumbers.parse(text, region)
    except NumberParseException as e:
        return ("err", PARSE_ERRORS[e.error_type])
    if not phonenumbers.is_valid_number(n):
        reason = phonenumbers.is_possible_number_with_reason(n)
        code = {ValidationResult.TOO_SHORT: "tooShort", ValidationResult.TOO_LONG: "tooLong",
                ValidationResult.INVALID_COUNTRY_CODE: "invalidCountryCode"}.get(reason, "invalidNumber")
        return ("err", code)
    tz = tuple(time_zones_for_number(n))
    return ("ok", phonenumbers.format_number(n, PhoneNumberFormat.E164),
            TYPE_NAMES[phonenumbers.number_type(n)], phonenumbers.region_code_for_number(n), tz)


def mutate(rng, s):
    """Drop, add or change one digit of a formatted string (keeping its punctuation)."""
    pos = [i for i, c in enumerate(s) if c.isdigit()]
    if not pos:
        return s
    i = rng.choice(pos)
    op = rng.randrange(3)
    d = rng.choice("0123456789")
    if op == 0:
        return s[:i] + s[i + 1:]
    if op == 1:
        return s[:i] + d + s[i:]
    return s[:i] + d + s[i + 1:]


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=424242, help="random seed (default: the committed fixture's)")
    ap.add_argument("--random", type=int, default=3000, help="number of random digit strings")
    ap.add_argument("--fuzz", type=int, default=3000, help="number of punctuation-fuzzed inputs")
    ap.add_argument("--out", default=OUT, help="output path (default: the committed fixture)")
    args = ap.parse_args()
    if phonenumbers.__version__ != PINNED_VERSION:
        sys.exit("phonenumbers %s installed, %s pinned" % (phonenumbers.__version__, PINNED_VERSION))
    rng = random.Random(args.seed)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    cases = []  # (input, region)

    def add(text, region):
        if text and "\t" not in text and "\n" not in text:
            cases.append((text, region))

    sources = [(r, PhoneMetadata.metadata_for_region(r)) for r in regions]
    sources += [("001", PhoneMetadata.metadata_for_nongeo_region(cc))
                for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)]
    for rid, md in sources:
        home = rid if rid != "001" else rng.choice(regions)
        for attr in DESCS:
            desc = getattr(md, attr)
            if desc is None or not desc.example_number:
                continue
            ex = desc.example_number
            num = phonenumbers.parse("+%d%s" % (md.country_code, ex), None)
            e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
            intl = phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL)
            natl = phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
            rfc = phonenumbers.format_number(num, PhoneNumberFormat.RFC3966)
            other = rng.choice(regions)
            add(e164, other)
            add(intl, home)
            add(intl.replace(" ", "-"), other)
            add(natl, home)
            add(rfc, home)
            add(ex, home)
            add("%d %s" % (md.country_code, ex), home)
            add("0" + ex, home)
            add(natl.translate(FULLWIDTH), home)
            add(e164.translate(FULLWIDTH), other)
            add("(" + natl + ")", home)
            add(natl.replace(" ", "."), home)
            add(natl + " ext. 123", home)
            add(e164 + "x45", other)
            for caller in (other, "US", "GB", "DE", "JP", "AU"):
                out = phonenumbers.format_out_of_country_calling_number(num, caller)
                add(out, caller)
            for k in sorted(rng.sample(range(1, len(ex)), min(2, len(ex) - 1))):
                add(ex[:k], home)
                add("+%d%s" % (md.country_code, ex[:k]), other)
            for src in (e164, intl, natl, ex, "%d%s" % (md.country_code, ex)):
                for _ in range(2):
                    add(mutate(rng, src), home if src is not e164 and src is not intl else other)
            add(ex + "12", home)
            add("+%d%s" % (md.country_code, ex + "1234"), other)
    # Random digit strings, national and international.
    for _ in range(args.random):
        region = rng.choice(regions)
        n = rng.randint(2, 18)
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        form = rng.randrange(4)
        if form == 0:
            add(digits, region)
        elif form == 1:
            add("+" + digits, region)
        elif form == 2:
            add("00" + digits, region)
        else:
            add(" ".join(digits[i:i + 3] for i in range(0, len(digits), 3)), region)
    # Punctuation fuzz: insert separators, junk, '+', '~' (an extension marker) and commas at random places.
    junk = [" ", "-", ".", "(", ")", "/", "+", "*", "~", "[", "]", ",", ",,", ";", "#", "\u00a0", "\u2013", "\uff0d",
            "!", "'", ":", "_"]
    base = [c for c in cases if not any(ch.isalpha() for ch in c[0])]
    for _ in range(args.fuzz):
        text, region = rng.choice(base)
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            chars.insert(rng.randint(0, len(chars)), rng.choice(junk))
        add("".join(chars), region)
    # Hand-picked inputs from the module's documentation.
    for text, region in [("+1 202-555-0100", "US"), ("(202) 555-0100", "US"), ("202.555.0100", "US"),
                         ("2025550100", "US"), ("1 202 555 0100", "US"), ("+44 20 7946 0958", "US"),
                         ("020 7946 0958", "GB"), ("0044 20 7946 0958", "GB"), ("011 44 20 7946 0958", "US"),
                         ("+49 30 123456", "DE"), ("+1 208 555 0100", "US"), ("+1 212 555 0100", "US")]:
        add(text, region)

    seen = set()
    unique = []
    for c in cases:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    tz_index = {}
    lines = []
    for text, region in unique:
        v = verdict(text, region)
        if v[0] == "ok":
            tz = v[4]
            if tz == ("Etc/Unknown",):
                idx = -1
            else:
                if tz not in tz_index:
                    tz_index[tz] = len(tz_index)
                idx = tz_index[tz]
            lines.append("%s\t%s\tok\t%s\t%s\t%s\t%d" % (text, region, v[1], v[2], v[3], idx))
        else:
            lines.append("%s\t%s\terr\t%s" % (text, region, v[1]))
    out_path = args.out
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("#version\t%s\n" % PINNED_VERSION)
        for tz, i in sorted(tz_index.items(), key=lambda kv: kv[1]):
            f.write("#tz\t%d\t%s\n" % (i, "|".join(tz)))
        for line in lines:
            f.write(line + "\n")
    oks = sum(1 for l in lines if "\tok\t" in l)
    sys.stderr.write("%d cases (%d valid), %d tz lists, %d bytes\n"
                     % (len(lines), oks, len(tz_index), os.path.getsize(out_path)))


if __name__ == "__main__":
    main()
