#!/usr/bin/env python3
"""Independent cross-check corpus for Herald's SMS segment counter.

Generates 10,000 random texts with a fixed seed (GSM-7 base characters, extension characters,
non-GSM Latin, emoji incl. ZWJ sequences / skin tones / flags / keycaps, CJK; lengths straddling
the 160/153/306/459 septet and 70/67/134/201 code-unit boundaries) and records how smpplib 2.2.4
(`smpplib.gsm.make_parts`, pip install smpplib==2.2.4) encodes and splits each one.

Usage: crosscheck.py OUTPUT.json
Writes [{"text", "smpplibParts", "smpplibEncoding"}] where smpplibEncoding is "GSM-7" or "UCS-2".
The Swift test `SegmentCrossCheckTests` reads the file named by $HERALD_SEGMENT_CROSSCHECK.
"""
import json
import random
import sys

import smpplib
from smpplib import consts, gsm

SEED = 20260420
COUNT = 10_000

GSM_BASE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXT = "\x0c^{}\\[~]|€"
assert len(GSM_BASE) == 127  # 128 positions minus ESC
ASCII_WORDS = ["hello", "sale", "today", "Herald", "vote", "reply", "STOP", "info", "the", "and", "123"]
NON_GSM_LATIN = "çáíóúâêôõãśłğűčřžœ¢©®°±µ¶·Ŝ`"
# § and form feed are GSM-7 but missing from smpplib's table; they appear only via QUIRKS so that
# most texts exercise the splitting rules rather than the table difference.
GSM_BASE_COMMON = GSM_BASE.replace("§", "")
GSM_EXT_COMMON = GSM_EXT.replace("\x0c", "")
QUIRKS = ["`", "§", "\x0c", "\x1b"]  # characters smpplib's table gets differently from TS 23.038
EMOJI = [
    "😀", "🎉", "👍", "👍🏽", "👋🏿", "❤️", "✅", "🇺🇸", "🇨🇦", "🇯🇵", "1️⃣", "#️⃣", "*️⃣",
    "👨‍👩‍👧‍👦", "👩🏾‍💻", "🏳️‍🌈", "🧑‍🤝‍🧑", "👨🏻‍❤️‍💋‍👨🏼", "🤷‍♀️", "🚀",
]
CJK = list("中文字日本語한국어漢字ひらがなカタカナ") + ["你好", "こんにちは", "안녕하세요"]
OTHER = ["Привет", "مرحبا", "שלום", "Ελληνικά", "é\u0301", "a\u0308"]


def septets(text):
    return sum(2 if ch in GSM_EXT else 1 for ch in text)


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def gsm_text(rng, target, ext_rate):
    out = []
    while septets("".join(out)) < target:
        r = rng.random()
        if r < ext_rate:
            out.append(rng.choice(GSM_EXT_COMMON))
        elif r < ext_rate + 0.25:
            out.append(rng.choice(ASCII_WORDS) + " ")
        else:
            out.append(rng.choice(GSM_BASE_COMMON))
    text = "".join(out)
    while septets(text) > target + 1 and len(text) > 1:
        text = text[:-1]
    return text


def ucs2_text(rng, target):
    pools = [
        (0.35, lambda: rng.choice(GSM_BASE)),
        (0.10, lambda: rng.choice(ASCII_WORDS) + " "),
        (0.08, lambda: rng.choice(GSM_EXT)),
        (0.12, lambda: rng.choice(NON_GSM_LATIN)),
        (0.20, lambda: rng.choice(EMOJI)),
        (0.10, lambda: rng.choice(CJK)),
        (0.05, lambda: rng.choice(OTHER)),
    ]
    out = []
    while utf16_len("".join(out)) < target:
        r = rng.random()
        acc = 0.0
        for weight, make in pools:
            acc += weight
            if r < acc:
                out.append(make())
                break
        else:
            out.append(rng.choice(EMOJI))
    text = "".join(out)
    if not any(not is_gsm_like(ch) for ch in text):
        text = text[:-1] + rng.choice(EMOJI + CJK)
    return text


def is_gsm_like(ch):
    return ch in GSM_BASE or ch in GSM_EXT


def make_text(rng):
    kind = rng.random()
    if kind < 0.40:
        target = rng.choice([
            rng.randint(150, 170), rng.randint(300, 312), rng.randint(450, 465),
            rng.randint(1, 160), rng.randint(155, 620),
        ])
        text = gsm_text(rng, target, ext_rate=rng.choice([0.0, 0.05, 0.15, 0.3]))
    elif kind < 0.90:
        target = rng.choice([
            rng.randint(60, 75), rng.randint(130, 140), rng.randint(195, 206),
            rng.randint(1, 70), rng.randint(68, 400),
        ])
        text = ucs2_text(rng, target)
    else:
        # GSM text with one quirk character inserted somewhere.
        text = gsm_text(rng, rng.randint(100, 330), ext_rate=0.05)
        pos = rng.randint(0, len(text))
        text = text[:pos] + rng.choice(QUIRKS) + text[pos:]
    return text or "x"


def smpplib_view(text):
    parts, encoding, _ = gsm.make_parts(text)
    return len(parts), ("GSM-7" if encoding == consts.SMPP_ENCODING_DEFAULT else "UCS-2")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: crosscheck.py OUTPUT.json")
    rng = random.Random(SEED)
    rows = []
    for _ in range(COUNT):
        text = make_text(rng)
        parts, encoding = smpplib_view(text)
        rows.append({"text": text, "smpplibParts": parts, "smpplibEncoding": encoding})
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=True)
    print(f"wrote {len(rows)} texts (smpplib {getattr(smpplib, '__version__', '2.2.4')}) to {sys.argv[1]}")


if __name__ == "__main__":
    main()
