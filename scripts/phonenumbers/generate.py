#!/usr/bin/env python3
"""Generate Sources/PhoneNumbers/Resources/phonenumbers.bin from libphonenumber metadata.

The metadata comes from the PyPI `phonenumbers` package (a port of Google's
libphonenumber), pinned in requirements.txt.  Every digit regular expression the
runtime needs (number-type patterns, general descriptions, international
(IDD) prefixes, leading digits, national-prefix-for-parsing rules) is compiled
here into a minimized DFA over the digits 0-9, so the Swift runtime never runs
a regular expression.

Usage:  python3 scripts/phonenumbers/generate.py [--check]

The output is deterministic: running the script twice yields identical bytes.
Any regex construct outside the supported subset aborts the script.
See README.md for the binary layout.
"""
import os
import random
import re
import struct
import sys

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, _GEO_MOBILE_COUNTRIES
from phonenumbers.tzdata import TIMEZONE_DATA

PINNED_VERSION = "9.0.43"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(ROOT, "Sources", "PhoneNumbers", "Resources")
OUT_BIN = os.path.join(OUT_DIR, "phonenumbers.bin")
OUT_NOTICE = os.path.join(OUT_DIR, "NOTICE")
MAGIC = b"HPN1"
DEAD = 0xFFFF
ANY_LENGTH = 0xFFFFFFFF


def die(msg):
    sys.stderr.write("generate.py: error: %s\n" % msg)
    sys.exit(1)


# --------------------------------------------------------------------------
# Regex subset parser.  AST nodes:
#   ("set", frozenset(digits))      one digit from the set (empty set: never matches, e.g. '~')
#   ("cat", [nodes]) / ("alt", [nodes])
#   ("rep", node, min, max|None)
#   ("grp", capture_index|None, node)
#   ("end",)                        '$' (only allowed at the end of a top-level branch)
# --------------------------------------------------------------------------
class Parser:
    def __init__(self, pattern):
        self.p = pattern
        self.i = 0
        self.groups = 0

    def fail(self, what):
        die("unsupported regex construct (%s) at offset %d in %r" % (what, self.i, self.p))

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else None

    def parse(self):
        node = self.alt()
        if self.i != len(self.p):
            self.fail("trailing input")
        return node

    def alt(self):
        branches = [self.cat()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.cat())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def cat(self):
        items = []
        while self.peek() is not None and self.peek() not in "|)":
            items.append(self.repeat())
        return items[0] if len(items) == 1 else ("cat", items)

    def repeat(self):
        node = self.atom()
        while True:
            c = self.peek()
            if c == "?":
                self.i += 1
                node = ("rep", node, 0, 1)
            elif c == "*":
                self.i += 1
                node = ("rep", node, 0, None)
            elif c == "+":
                self.i += 1
                node = ("rep", node, 1, None)
            elif c == "{":
                m = re.compile(r"\{(\d+)(?:(,)(\d*))?\}").match(self.p, self.i)
                if not m:
                    self.fail("bad quantifier")
                self.i = m.end()
                lo = int(m.group(1))
                hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
                node = ("rep", node, lo, hi)
            else:
                return node
            if self.peek() in ("?", "+") and self.p[self.i - 1] in "?*+}":
                self.fail("lazy/possessive quantifier")

    def atom(self):
        c = self.peek()
        if c is None:
            self.fail("unexpected end")
        if c.isdigit():
            self.i += 1
            return ("set", frozenset([int(c)]))
        if c == "~":  # dial-tone wait marker: never present in a digit string
            self.i += 1
            return ("set", frozenset())
        if c == "$":
            self.i += 1
            return ("end",)
        if c == "\\":
            if self.p[self.i:self.i + 2] == "\\d":
                self.i += 2
                return ("set", frozenset(range(10)))
            self.fail("escape")
        if c == "[":
            return self.charclass()
        if c == "(":
            if self.p.startswith("(?:", self.i):
                self.i += 3
                inner = self.alt()
                idx = None
            elif self.p.startswith("(?", self.i):
                self.fail("group extension")
            else:
                self.i += 1
                self.groups += 1
                idx = self.groups
                inner = self.alt()
            if self.peek() != ")":
                self.fail("unclosed group")
            self.i += 1
            return ("grp", idx, inner)
        self.fail("character %r" % c)

    def charclass(self):
        self.i += 1
        if self.peek() == "^":
            self.fail("negated class")
        digits = set()
        while self.peek() != "]":
            c = self.peek()
            if c is None:
                self.fail("unclosed class")
            if c == "\\" and self.p[self.i:self.i + 2] == "\\d":
                digits.update(range(10))
                self.i += 2
                continue
            if not c.isdigit():
                self.fail("class member %r" % c)
            if self.p[self.i + 1:self.i + 2] == "-" and self.p[self.i + 2:self.i + 3] != "]":
                hi = self.p[self.i + 2]
                if not hi.isdigit() or hi < c:
                    self.fail("class range")
                digits.update(range(int(c), int(hi) + 1))
                self.i += 3
            else:
                digits.add(int(c))
                self.i += 1
        self.i += 1
        return ("set", frozenset(digits))


def parse_regex(pattern):
    p = Parser(pattern)
    node = p.parse()
    return node, p.groups


def contains(node, pred):
    if pred(node):
        return True
    k = node[0]
    if k in ("cat", "alt"):
        return any(contains(n, pred) for n in node[1])
    if k == "rep":
        return contains(node[1], pred)
    if k == "grp":
        return contains(node[2], pred)
    return False


# --------------------------------------------------------------------------
# NFA / DFA
# --------------------------------------------------------------------------
class NFA:
    def __init__(self):
        self.eps = []
        self.tr = []  # list of (digitset, target)

    def new(self):
        self.eps.append([])
        self.tr.append([])
        return len(self.eps) - 1

    def build(self, node, s):
        """Adds node starting at state s; returns the end state."""
        k = node[0]
        if k == "set":
            e = self.new()
            if node[1]:
                self.tr[s].append((node[1], e))
            return e
        if k == "cat":
            for n in node[1]:
                s = self.build(n, s)
            return s
        if k == "alt":
            e = self.new()
            for n in node[1]:
                b = self.new()
                self.eps[s].append(b)
                self.eps[self.build(n, b)].append(e)
            return e
        if k == "grp":
            return self.build(node[2], s)
        if k == "rep":
            _, inner, lo, hi = node
            for _ in range(lo):
                s = self.build(inner, s)
            if hi is None:
                loop = self.new()
                self.eps[s].append(loop)
                self.eps[self.build(inner, loop)].append(loop)
                return loop
            e = self.new()
            self.eps[s].append(e)
            for _ in range(hi - lo):
                s = self.build(inner, s)
                self.eps[s].append(e)
            return e
        if k == "end":
            die("'$' inside a pattern is only supported at the end of a top-level alternative")
        die("internal: node %r" % (k,))


def closure(nfa, states):
    stack = list(states)
    seen = set(states)
    while stack:
        s = stack.pop()
        for t in nfa.eps[s]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return frozenset(seen)


def compile_dfa(node):
    """Returns a minimized DFA as (transitions, accepts) with start state 0.

    transitions[s][d] is the next state or None (dead)."""
    nfa = NFA()
    start = nfa.new()
    final = nfa.build(node, start)
    s0 = closure(nfa, [start])
    index = {s0: 0}
    order = [s0]
    trans = []
    i = 0
    while i < len(order):
        cur = order[i]
        row = []
        for d in range(10):
            nxt = set()
            for s in cur:
                for digits, t in nfa.tr[s]:
                    if d in digits:
                        nxt.add(t)
            if not nxt:
                row.append(None)
                continue
            c = closure(nfa, nxt)
            if c not in index:
                index[c] = len(order)
                order.append(c)
            row.append(index[c])
        trans.append(row)
        i += 1
    accepts = [final in st for st in order]
    return minimize(trans, accepts)


def minimize(trans, accepts):
    n = len(trans)
    # Remove states that cannot reach an accepting state (they behave as dead).
    rev = [[] for _ in range(n)]
    for s in range(n):
        for t in trans[s]:
            if t is not None:
                rev[t].append(s)
    live = set(s for s in range(n) if accepts[s])
    stack = list(live)
    while stack:
        s = stack.pop()
        for p in rev[s]:
            if p not in live:
                live.add(p)
                stack.append(p)
    if 0 not in live:
        return [[None] * 10], [False]
    trans = [[t if t in live else None for t in row] for row in trans]
    # Moore partition refinement.
    block = {s: (1 if accepts[s] else 0) for s in live}
    while True:
        sig = {}
        newblock = {}
        for s in sorted(live):
            key = (block[s], tuple(block[t] if t is not None else -1 for t in trans[s]))
            if key not in sig:
                sig[key] = len(sig)
            newblock[s] = sig[key]
        if len(set(newblock.values())) == len(set(block.values())):
            block = newblock
            break
        block = newblock
    # Renumber blocks in BFS order from the start state (deterministic).
    rep = {}
    for s in sorted(live):
        rep.setdefault(block[s], s)
    order = [block[0]]
    pos = {block[0]: 0}
    i = 0
    out_trans = []
    out_acc = []
    while i < len(order):
        b = order[i]
        s = rep[b]
        row = []
        for t in trans[s]:
            if t is None:
                row.append(None)
                continue
            tb = block[t]
            if tb not in pos:
                pos[tb] = len(order)
                order.append(tb)
            row.append(pos[tb])
        out_trans.append(row)
        out_acc.append(accepts[s])
        i += 1
    return out_trans, out_acc


class DFAPool:
    def __init__(self):
        self.by_pattern = {}
        self.by_shape = {}
        self.dfas = []

    def add_node(self, key, node):
        if key in self.by_pattern:
            return self.by_pattern[key]
        trans, acc = compile_dfa(node)
        shape = (tuple(tuple(r) for r in trans), tuple(acc))
        if shape not in self.by_shape:
            self.by_shape[shape] = len(self.dfas)
            self.dfas.append((trans, acc))
        idx = self.by_shape[shape]
        self.by_pattern[key] = idx
        return idx

    def add(self, pattern):
        if pattern is None or pattern == "":
            return -1
        node, _ = parse_regex(pattern)
        if contains(node, lambda n: n[0] == "end"):
            die("'$' in a full-match pattern: %r" % pattern)
        return self.add_node(("re", pattern), node)

    def fullmatch(self, idx, s):
        if idx < 0:
            return False
        trans, acc = self.dfas[idx]
        st = 0
        for ch in s:
            st = trans[st][ord(ch) - 48]
            if st is None:
                return False
        return acc[st]

    def match_ends(self, idx, s, pos):
        """All end positions p >= pos such that s[pos:p] is accepted, longest first."""
        trans, acc = self.dfas[idx]
        st = 0
        ends = [pos] if acc[0] else []
        for p in range(pos, len(s)):
            st = trans[st][ord(s[p]) - 48]
            if st is None:
                break
            if acc[st]:
                ends.append(p + 1)
        ends.reverse()
        return ends


# --------------------------------------------------------------------------
# National prefix for parsing -> ordered rules.
# A rule: (anchored, transform, constant, [(dfa, emit)]).  The runtime tries the
# rules in order; the first that matches wins.  Segments are matched one after
# the other, longest match first, with backtracking between segments.
#   transform == False: result = number[matchEnd:]
#   transform == True : result = constant + emitted segments + number[matchEnd:]
# --------------------------------------------------------------------------
def flatten_items(node):
    if node[0] == "cat":
        out = []
        for n in node[1]:
            out.extend(flatten_items(n))
        return out
    if node[0] == "grp" and node[1] is None and node[2][0] == "cat":
        return flatten_items(node[2])
    return [node]


def has_group(node, g):
    return contains(node, lambda n: n[0] == "grp" and n[1] == g)


def expand_optional(items, g):
    """Expands optional items containing group g into (taken, not-taken) variants, taken first."""
    for i, it in enumerate(items):
        if it[0] == "rep" and it[2] == 0 and it[3] == 1 and has_group(it[1], g):
            inner = flatten_items(it[1])
            taken = expand_optional(items[:i] + inner + items[i + 1:], g)
            skipped = expand_optional(items[:i] + items[i + 1:], g)
            return taken + skipped
    return [items]


def npp_rules(region, pattern, transform, pool):
    node, ngroups = parse_regex(pattern)
    branches = node[1] if node[0] == "alt" else [node]
    tconst, tgroup = "", None
    if transform:
        m = re.fullmatch(r"(\d*)\\(\d)", transform)
        if not m:
            die("%s: unsupported transform rule %r" % (region, transform))
        tconst, tgroup = m.group(1), int(m.group(2))
    rules = []
    for bi, br in enumerate(branches):
        items = flatten_items(br)
        anchored = False
        if items and items[-1][0] == "end":
            anchored = True
            items = items[:-1]
        if any(contains(it, lambda n: n[0] == "end") for it in items):
            die("%s: '$' not at the end of a top-level alternative in %r" % (region, pattern))
        variants = expand_optional(items, ngroups) if (transform and ngroups) else [items]
        for vi, var in enumerate(variants):
            is_transform = bool(transform) and ngroups > 0 and any(has_group(it, ngroups) for it in var)
            segs = []
            drop = []
            for it in var:
                emit = is_transform and it[0] == "grp" and it[1] == tgroup
                if is_transform and not emit and has_group(it, tgroup):
                    die("%s: referenced group %d is nested in %r" % (region, tgroup, pattern))
                if emit:
                    if drop:
                        segs.append((drop, False))
                        drop = []
                    segs.append(([it], True))
                else:
                    drop.append(it)
            if drop:
                segs.append((drop, False))
            out = []
            for si, (its, emit) in enumerate(segs):
                key = ("npp", pattern, bi, vi, si)
                out.append((pool.add_node(key, ("cat", its)), emit))
            rules.append((anchored, is_transform, tconst if is_transform else "", out))
    return rules


def apply_rules(pool, rules, s):
    """Python mirror of the Swift runtime; returns the rewritten number or None (no match)."""
    for anchored, is_transform, const, segs in rules:
        def rec(i, pos, emitted):
            if i == len(segs):
                if anchored and pos != len(s):
                    return None
                return pos, emitted
            dfa, emit = segs[i]
            for p in pool.match_ends(dfa, s, pos):
                r = rec(i + 1, p, emitted + (s[pos:p] if emit else ""))
                if r is not None:
                    return r
            return None
        r = rec(0, 0, "")
        if r is not None:
            end, emitted = r
            return (const + emitted + s[end:]) if is_transform else s[end:]
    return None


def python_npp(md, s):
    m = re.match(md.national_prefix_for_parsing, s)
    if not m:
        return None
    rule = md.national_prefix_transform_rule
    if not rule or m.groups()[len(m.groups()) - 1] is None:
        return s[m.end():]
    return re.sub(md.national_prefix_for_parsing, rule, s, count=1)


# --------------------------------------------------------------------------
def lengths_mask(lengths, empty_means_any):
    lengths = list(lengths)
    if not lengths:
        return ANY_LENGTH if empty_means_any else 0
    mask = 0
    for L in lengths:
        if L == -1:
            continue
        if not (0 < L < 32):
            die("possible length %d out of range" % L)
        mask |= 1 << L
    return mask


DESC_ORDER = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
              "voicemail", "fixed_line", "mobile"]


def sample_strings(md, pool, rng):
    """Inputs used to verify that the DFA-based prefix logic agrees with Python's `re`."""
    out = set()
    examples = []
    for attr in ["general_desc"] + DESC_ORDER:
        d = getattr(md, attr)
        if d is not None and d.example_number:
            examples.append(d.example_number)
    prefixes = ["", "0", "1", "00", "01", "011", "8", "9", "90", "15", "0015", "810", "180020", "003768", "0037680"]
    for ex in examples:
        for p in prefixes:
            out.add(p + ex)
            out.add(p + ex[:-1])
            out.add(p + ex + "1")
        for k in range(1, min(5, len(ex))):
            out.add(ex[:k] + "15" + ex[k:])
            out.add("0" + ex[:k] + "15" + ex[k:])
    for _ in range(300):
        out.add("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 14))))
    return sorted(out)


def main():
    check_only = "--check" in sys.argv
    if phonenumbers.__version__ != PINNED_VERSION:
        die("phonenumbers %s installed, %s pinned (pip install -r scripts/phonenumbers/requirements.txt)"
            % (phonenumbers.__version__, PINNED_VERSION))
    pool = DFAPool()
    rng = random.Random(20240901)

    entries = []  # (id, metadata)
    for r in sorted(phonenumbers.SUPPORTED_REGIONS):
        entries.append((r, PhoneMetadata.metadata_for_region(r)))
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        entries.append(("001", PhoneMetadata.metadata_for_nongeo_region(cc)))

    mismatches = 0
    blob_entries = []
    for rid, md in entries:
        gd = md.general_desc
        if gd is None or not gd.national_number_pattern or not gd.possible_length:
            die("%s: missing general description" % rid)
        e = {
            "id": rid,
            "cc": md.country_code,
            "general": pool.add(gd.national_number_pattern),
            "general_len": lengths_mask(gd.possible_length, False),
            "general_local": lengths_mask(gd.possible_length_local_only, False),
            "descs": [],
            "same": 1 if md.same_mobile_and_fixed_line_pattern else 0,
            "leading": pool.add(md.leading_digits),
            "idd": pool.add(md.international_prefix),
            "rules": [],
        }
        for attr in DESC_ORDER:
            d = getattr(md, attr)
            if d is None or not d.national_number_pattern:
                e["descs"].append((-1, 0))
            else:
                e["descs"].append((pool.add(d.national_number_pattern), lengths_mask(d.possible_length, True)))
        if md.national_prefix_for_parsing:
            e["rules"] = npp_rules(rid, md.national_prefix_for_parsing, md.national_prefix_transform_rule, pool)
        # Verify the prefix logic against Python's regex engine on sample inputs.
        for s in sample_strings(md, pool, rng):
            if md.national_prefix_for_parsing:
                want = python_npp(md, s)
                got = apply_rules(pool, e["rules"], s)
                if want != got:
                    mismatches += 1
                    sys.stderr.write("NPP mismatch %s %r: python=%r dfa=%r\n" % (rid, s, want, got))
            if md.international_prefix:
                m = re.match(md.international_prefix, s)
                want = m.end() if m else None
                ends = pool.match_ends(e["idd"], s, 0)
                got = ends[0] if ends else None
                if want != got:
                    mismatches += 1
                    sys.stderr.write("IDD mismatch %s %r: python=%r dfa=%r\n" % (rid, s, want, got))
            if md.leading_digits:
                want = re.match(md.leading_digits, s) is not None
                got = bool(pool.match_ends(e["leading"], s, 0))
                if want != got:
                    mismatches += 1
                    sys.stderr.write("leading-digits mismatch %s %r\n" % (rid, s))
            for attr, (idx, _) in zip(["general_desc"] + DESC_ORDER, [(e["general"], 0)] + e["descs"]):
                d = getattr(md, attr)
                if d is None or not d.national_number_pattern:
                    continue
                want = re.fullmatch(d.national_number_pattern, s) is not None
                if want != pool.fullmatch(idx, s):
                    mismatches += 1
                    sys.stderr.write("pattern mismatch %s.%s %r\n" % (rid, attr, s))
        blob_entries.append(e)
    if mismatches:
        die("%d mismatches between the compiled DFAs and Python's re" % mismatches)

    index_of = {}
    for i, e in enumerate(blob_entries):
        index_of[(e["id"], e["cc"])] = i
    cc_table = []
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        regions = COUNTRY_CODE_TO_REGION_CODE[cc]
        if regions == ("001",):
            cc_table.append((cc, [index_of[("001", cc)]]))
        else:
            cc_table.append((cc, [index_of[(r, cc)] for r in regions]))

    # Time zones.
    names = sorted(set(n for v in TIMEZONE_DATA.values() for n in v))
    name_idx = {n: i for i, n in enumerate(names)}
    lists = sorted(set(TIMEZONE_DATA.values()))
    list_idx = {l: i for i, l in enumerate(lists)}

    out = bytearray()
    out += MAGIC

    def u8(v):
        out.extend(struct.pack("<B", v))

    def u16(v):
        out.extend(struct.pack("<H", v))

    def u32(v):
        out.extend(struct.pack("<I", v))

    def i32(v):
        out.extend(struct.pack("<i", v))

    def string(s):
        b = s.encode("utf-8")
        if len(b) > 255:
            die("string too long")
        u8(len(b))
        out.extend(b)

    string(PINNED_VERSION)
    u32(len(pool.dfas))
    for trans, acc in pool.dfas:
        if len(trans) >= DEAD:
            die("DFA too large")
        u16(len(trans))
        for row in trans:
            for t in row:
                u16(DEAD if t is None else t)
        for a in acc:
            u8(1 if a else 0)
    u32(len(blob_entries))
    for e in blob_entries:
        string(e["id"])
        u16(e["cc"])
        i32(e["general"])
        u32(e["general_len"])
        u32(e["general_local"])
        for idx, mask in e["descs"]:
            i32(idx)
            u32(mask)
        u8(e["same"])
        i32(e["leading"])
        i32(e["idd"])
        u8(len(e["rules"]))
        for anchored, is_transform, const, segs in e["rules"]:
            u8((1 if anchored else 0) | (2 if is_transform else 0))
            string(const)
            u8(len(segs))
            for idx, emit in segs:
                i32(idx)
                u8(1 if emit else 0)
    u32(len(cc_table))
    for cc, idxs in cc_table:
        u16(cc)
        u8(len(idxs))
        for i in idxs:
            u16(i)
    geo = sorted(_GEO_MOBILE_COUNTRIES)
    u8(len(geo))
    for cc in geo:
        u16(cc)
    u32(len(names))
    for n in names:
        string(n)
    u32(len(lists))
    for l in lists:
        u8(len(l))
        for n in l:
            u16(name_idx[n])
    u32(len(TIMEZONE_DATA))
    for prefix in sorted(TIMEZONE_DATA):
        string(prefix)
        u16(list_idx[TIMEZONE_DATA[prefix]])
    out += b"END!"

    notice = NOTICE_TEMPLATE % {"version": PINNED_VERSION}
    total_states = sum(len(t) for t, _ in pool.dfas)
    sys.stderr.write("%d entries, %d DFAs, %d states, %d tz prefixes, %d bytes\n"
                     % (len(blob_entries), len(pool.dfas), total_states, len(TIMEZONE_DATA), len(out)))
    if check_only:
        with open(OUT_BIN, "rb") as f:
            if f.read() != bytes(out):
                die("%s is stale; rerun generate.py" % OUT_BIN)
        sys.stderr.write("up to date\n")
        return
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(OUT_BIN, "wb") as f:
        f.write(bytes(out))
    with open(OUT_NOTICE, "w") as f:
        f.write(notice)


NOTICE_TEMPLATE = """Herald PhoneNumbers data (phonenumbers.bin)
===========================================

phonenumbers.bin is generated by scripts/phonenumbers/generate.py from the
phone number metadata of libphonenumber (https://github.com/google/libphonenumber),
Copyright (C) 2009-2025 The Libphonenumber Authors (Google LLC), as carried by
the Python port "phonenumbers" (https://github.com/daviddrysdale/python-phonenumbers),
version %(version)s (libphonenumber metadata of the same release).

The number patterns were compiled into deterministic finite automata and the
time zone map (timezones/map_data) was re-encoded; the data is otherwise unchanged.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
"""

if __name__ == "__main__":
    main()
