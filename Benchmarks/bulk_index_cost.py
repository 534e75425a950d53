#!/usr/bin/env python3
"""What Herald's contact schema costs when every secondary index is built in bulk.

The import benchmark (`herald-bench import --ladder`) adds each index of the contact schema one at
a time and measures the per-row cost of maintaining it during the import. This script asks the
other question: if an import wrote only the contact rows with their unique keys and the tag rows,
and built every secondary index afterwards with SQLite's sorter (CREATE INDEX, the cheapest way
SQLite builds an index), how long would 1,000,000 rows take? It compares that with the 6.7 s a
1,000,000-row import may take at the issue's goal of 150,000 rows/s.

Rows have the shape of the generated import file: ascending phones, 30 states, random 5-digit
zips, 3 tag rows per contact (two of 8 tags plus `imported`). Python's sqlite3 module adds about a
microsecond per statement, which counts against the insert steps, not the index builds.

Usage: python3 Benchmarks/bulk_index_cost.py [--rows 1000000] [--db /tmp/herald-bulk-index.sqlite]
"""
import argparse
import os
import random
import sqlite3
import time

STATES = ["CA", "NY", "TX", "FL", "WA", "OR", "IL", "OH", "GA", "NC", "MI", "PA", "AZ", "MA", "NJ",
          "VA", "TN", "IN", "MO", "MD", "WI", "CO", "MN", "SC", "AL", "LA", "KY", "OK", "CT", "UT"]
TAGS = ["vip", "donor", "volunteer", "member", "newsletter", "event", "sms", "lead"]
INDEXES = [
    "CREATE INDEX contacts_org_updated ON contacts (org_id, updated_at, id)",
    "CREATE INDEX contacts_org_created ON contacts (org_id, created_at, id)",
    "CREATE INDEX contacts_org_state ON contacts (org_id, UPPER(state), updated_at)",
    "CREATE INDEX contacts_org_zip ON contacts (org_id, zip)",
    "CREATE INDEX contact_tags_org_tag ON contact_tags (org_id, tag, contact_id)",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/herald-bulk-index.sqlite")
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(args.db + suffix)
        except FileNotFoundError:
            pass
    rng = random.Random(1)
    n = args.rows
    rows = [(f"{i:036d}", 1, f"+1{2000000000 + i * 7}", "Ann", "Lee", f"a{i}@example.org", "Town", rng.choice(STATES),
             f"{rng.randrange(10000, 99999)}", "{}", 1700000000000 + i, 1700000000000 + i) for i in range(n)]
    tags = [(1, i + 1, t) for i in range(n) for t in rng.sample(TAGS, 2) + ["imported"]]

    c = sqlite3.connect(args.db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=NORMAL")
    c.execute("PRAGMA cache_size=-16384")
    c.execute("""CREATE TABLE contacts (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, org_id INT NOT NULL, phone TEXT NOT NULL,
                 first_name TEXT, last_name TEXT, email TEXT, city TEXT, state TEXT, zip TEXT, custom_fields TEXT,
                 created_at INT NOT NULL, updated_at INT NOT NULL)""")
    c.execute("CREATE UNIQUE INDEX contacts_org_phone ON contacts (org_id, phone)")
    c.execute("CREATE TABLE contact_tags (org_id INT NOT NULL, contact_id INT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (contact_id, tag))")

    steps = []
    t = time.time()
    c.execute("BEGIN")
    c.executemany("INSERT INTO contacts (uuid, org_id, phone, first_name, last_name, email, city, state, zip, custom_fields, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    c.execute("COMMIT")
    steps.append(("contact rows with their unique keys (phone, uuid)", time.time() - t))
    t = time.time()
    c.execute("BEGIN")
    c.executemany("INSERT INTO contact_tags VALUES (?, ?, ?)", tags)
    c.execute("COMMIT")
    steps.append((f"{len(tags):,} tag rows (primary key only)", time.time() - t))
    for sql in INDEXES:
        t = time.time()
        c.execute(sql)
        steps.append((f"CREATE INDEX {sql.split()[2]} (bulk)", time.time() - t))

    budget = n / 150_000
    total = sum(s for _, s in steps)
    indexes = sum(s for name, s in steps if name.startswith("CREATE INDEX"))
    for name, seconds in steps:
        print(f"{name}: {seconds:.2f} s")
    print(f"secondary indexes built in bulk: {indexes:.2f} s = {indexes / budget:.0%} of the {budget:.2f} s that {n:,} rows may take at 150,000 rows/s")
    print(f"everything: {total:.2f} s = {n / total:,.0f} rows/s (before any parsing, validation or merging)")


if __name__ == "__main__":
    main()
