#!/usr/bin/env python3
"""Crash test of the delivery engine (issue: sends that survive crashes).

Starts real `herald serve` processes, imports N contacts, launches one campaign, and kills
herald with SIGKILL at random moments while it sends, restarting it after each kill. At the end
it reads the simulator's own record (its SQLite file, written before the simulator answers, like
a carrier's) and checks that every eligible phone received the message exactly once and that
the campaign's counters equal that record.

  scripts/crash_test.py --engine sqlite   [--contacts 200000] [--kills 10]
  scripts/crash_test.py --engine postgres --workers 3 --admin-url postgres://…/postgres

With PostgreSQL it runs one `--role api` process and N `--role worker` processes (default 3) on
one database and one simulator record shared by all of them, and kills the same one of the
workers (worker0) each time; the others keep sending. It also checks that every delivery receipt
reached the campaign (deliveredCount equals the phones the record shows delivered).
"""
import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

KEY = "hk_" + "crash" * 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, content_type="application/json", timeout=30):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {KEY}")
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Node:
    def __init__(self, binary, workdir, port, database, config, role="all", name="herald"):
        self.binary, self.workdir, self.port = binary, workdir, port
        self.database, self.config, self.role, self.name = database, config, role, name
        self.proc = None
        self.log = open(os.path.join(workdir, f"{name}.log"), "ab")

    def start(self):
        env = dict(os.environ, HERALD_BOOTSTRAP_API_KEY=KEY, HERALD_RATE_LIMIT="100000", HERALD_RATE_LIMIT_BURST="100000",
                   HERALD_DATA_DIR=os.path.join(self.workdir, "data"))
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--database", self.database, "--config", self.config, "--role", self.role],
            cwd=self.workdir, env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not become ready")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def daytime_zone():
    """A time zone where it is now between 09:00 and 19:00, so quiet hours stay open."""
    for zone in ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "Australia/Sydney",
                 "Asia/Kolkata", "Pacific/Honolulu", "Pacific/Kiritimati", "America/Sao_Paulo", "Asia/Dubai"]:
        hour = datetime.now(ZoneInfo(zone)).hour
        if 9 <= hour <= 18:
            return zone
    return "Pacific/Kiritimati"


def make_csv(path, n, seed):
    rng = random.Random(seed)
    area_codes = [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228,
                  301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323,
                  401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 430, 432,
                  501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 559,
                  601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630,
                  701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732,
                  801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843,
                  901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931]
    phones = set()
    with open(path, "w") as f:
        f.write("phone,firstName\n")
        while len(phones) < n:
            last4 = rng.randint(10, 9999)
            phone = f"+1{rng.choice(area_codes)}{rng.randint(200, 999)}{last4:04d}"
            if phone in phones:
                continue
            phones.add(phone)
            f.write(f"{phone},P{len(phones)}\n")
    return phones


def pg_phone(i):
    return f"+1919{200 + i // 9000}{10 + i % 9000:04d}"


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--binary", default=os.path.abspath(".build/debug/herald"))
    ap.add_argument("--contacts", type=int, default=int(os.environ.get("HERALD_CRASH_CONTACTS", "200000")))
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--admin-url", default=os.environ.get("HERALD_TEST_POSTGRES_URL"))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="herald-crash-")
    print(f"crash test: engine={args.engine} contacts={args.contacts} kills={args.kills} seed={args.seed} dir={work}", flush=True)
    sim_db = os.path.join(work, "simulator.db")
    config = os.path.join(work, "herald.json")
    with open(config, "w") as f:
        json.dump({"providers": {"simulator": {"type": "simulator", "latencyMs": 5, "database": sim_db}},
                   "maxRunningCampaigns": 2}, f)

    if args.engine == "sqlite":
        database = "sqlite://" + os.path.join(work, "herald.db")
    else:
        if not args.admin_url:
            raise SystemExit("--admin-url (or HERALD_TEST_POSTGRES_URL) is required for postgres")
        name = "herald_crash_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", args.admin_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
        database = args.admin_url.rsplit("/", 1)[0] + "/" + name

    api_port = free_port()
    if args.engine == "sqlite":
        nodes = [Node(args.binary, work, api_port, database, config, "all", "herald")]
        api = nodes[0]
        victims = nodes
    else:
        api = Node(args.binary, work, api_port, database, config, "api", "api")
        api.start()
        nodes = [api] + [Node(args.binary, work, free_port(), database, config, "worker", f"worker{i}") for i in range(args.workers)]
        victims = nodes[1:2]
    for node in nodes:
        if node.proc is None:
            node.start()

    try:
        t0 = time.time()
        if args.engine == "sqlite":
            csv_path = os.path.join(work, "contacts.csv")
            phones = make_csv(csv_path, args.contacts, args.seed)
            with open(csv_path, "rb") as f:
                status, job = request(api.port, "POST", "/api/contacts/import", f.read(), "text/csv", timeout=300)
            assert status == 202, (status, job)
            imported = wait_for(lambda: (lambda s, j: j if j["status"] != "processing" else None)(*request(api.port, "GET", f"/api/contacts/imports/{job['id']}")),
                                1800, "the import")
            assert imported["status"] == "completed" and imported["created"] == args.contacts, imported
            print(f"imported {args.contacts} contacts through the CSV import in {time.time() - t0:.1f}s", flush=True)
        else:
            # The PostgreSQL import path is row-by-row (slow); this test is about sending, so the
            # contacts are written with one INSERT … SELECT of valid, distinct US numbers.
            phones = {pg_phone(i) for i in range(1, args.contacts + 1)}
            sql = (
                "INSERT INTO contacts (uuid, org_id, phone, first_name, custom_fields, is_textable, created_at, updated_at) "
                "SELECT gen_random_uuid()::text, (SELECT id FROM organizations ORDER BY id LIMIT 1), "
                "'+1919' || (200 + i / 9000)::text || lpad((10 + i % 9000)::text, 4, '0'), 'P' || i::text, '{}', 1, 0, 0 "
                f"FROM generate_series(1, {args.contacts}) AS i")
            subprocess.run(["psql", database, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)
            print(f"inserted {args.contacts} contacts in {time.time() - t0:.1f}s", flush=True)

        zone = daytime_zone()
        status, sender = request(api.port, "POST", "/api/senders",
                                 {"channel": "text", "address": "+12025550199", "provider": "simulator", "maxPerSecond": 50000, "label": "fast"})
        assert status == 201, (status, sender)
        status, campaign = request(api.port, "POST", "/api/campaigns",
                                   {"name": "Crash", "contactFilter": {}, "message": "Hi {{firstName}}", "timezone": zone, "senderId": sender["id"]})
        assert status == 201, (status, campaign)
        cid = campaign["id"]
        print(f"launched campaign {cid} (time zone {zone})", flush=True)

        # The kills are spread over the whole campaign: each at a random point of its progress
        # (a random share of the audience sent, then a random delay), not just its first seconds.
        thresholds = sorted(rng.uniform(0, 0.8) * args.contacts for _ in range(args.kills))
        kills = 0
        for k, threshold in enumerate(thresholds):
            def reached():
                try:
                    _, c = request(api.port, "GET", f"/api/campaigns/{cid}", timeout=5)
                except Exception:
                    return None
                return c if c["sentCount"] >= threshold or c["status"] in ("completed", "failed") else None
            c = wait_for(reached, 3600, f"{threshold:.0f} messages sent")
            if c["status"] in ("completed", "failed"):
                break
            time.sleep(rng.uniform(0, 0.5))
            victim = rng.choice(victims)
            victim.kill()
            kills += 1
            print(f"kill {k + 1}: SIGKILL {victim.name} (campaign {c.get('status')}, sent {c.get('sentCount')})", flush=True)
            time.sleep(rng.uniform(0, 0.5))
            victim.start()

        def done():
            _, c = request(api.port, "GET", f"/api/campaigns/{cid}")
            return c if c["status"] in ("completed", "failed") else None
        final = wait_for(done, 3600, "the campaign to complete")
        # Late receipts may still arrive; counters of sends are final now.
        record = sqlite3.connect(f"file:{sim_db}?mode=ro", uri=True)
        rows = record.execute('SELECT "to", COUNT(*) FROM simulator_messages GROUP BY "to"').fetchall() if table_exists(record, "simulator_messages") else None
        if rows is None:
            tables = [r[0] for r in record.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            raise SystemExit(f"cannot find the simulator's message table in {tables}")
        counts = dict(rows)
        duplicates = {p: n for p, n in counts.items() if n != 1}
        missing = phones - set(counts)
        extra = set(counts) - phones
        _, c = request(api.port, "GET", f"/api/campaigns/{cid}")
        print(json.dumps({k: c[k] for k in ["status", "totalCount", "sentCount", "failedCount", "skippedCount", "queuedCount", "deliveredCount"]}), flush=True)
        problems = []
        if kills < args.kills:
            problems.append(f"only {kills} of {args.kills} kills happened before the campaign ended")
        if final["status"] != "completed":
            problems.append(f"campaign ended {final['status']}: {final.get('failureReason')}")
        if duplicates:
            problems.append(f"{len(duplicates)} phones received more than once, e.g. {list(duplicates.items())[:5]}")
        if missing:
            problems.append(f"{len(missing)} eligible phones received nothing, e.g. {list(missing)[:5]}")
        if extra:
            problems.append(f"{len(extra)} unknown phones in the record")
        if c["sentCount"] != len(counts):
            problems.append(f"sentCount {c['sentCount']} != {len(counts)} phones in the simulator's record")
        # Every phone ends in a "delivered" rule: all receipts must reach the campaign, even those
        # a killed worker had emitted but not applied (the simulator emits them again).
        def receipted():
            _, c = request(api.port, "GET", f"/api/campaigns/{cid}")
            return c if c["deliveredCount"] >= len(counts) else None
        try:
            # Receipts trail the sends (the killed worker's claimed ones come back after their
            # lease): allow for a large audience on a slow machine; it returns as soon as all are in.
            c = wait_for(receipted, max(180, args.contacts // 400), "the receipts")
        except SystemExit:
            _, c = request(api.port, "GET", f"/api/campaigns/{cid}")
        delivered = record.execute("SELECT COUNT(*) FROM simulator_messages WHERE status = 'delivered'").fetchone()[0]
        print(f"deliveredCount {c['deliveredCount']} of {len(counts)} sent (the record has confirmed {delivered} receipts so far)", flush=True)
        if c["deliveredCount"] != len(counts):
            problems.append(f"deliveredCount {c['deliveredCount']} != {len(counts)} phones in the simulator's record")
        if c["totalCount"] != args.contacts or c["queuedCount"] != 0:
            problems.append(f"totalCount {c['totalCount']} / queuedCount {c['queuedCount']} unexpected")
        if problems:
            print("CRASH TEST FAILED:\n  " + "\n  ".join(problems), flush=True)
            return 1
        print(f"crash test passed: {len(counts)} phones, each exactly once, after {kills} kills, in {time.time() - t0:.0f}s", flush=True)
        return 0
    finally:
        for node in nodes:
            node.stop()


def table_exists(conn, name):
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


if __name__ == "__main__":
    sys.exit(main())
