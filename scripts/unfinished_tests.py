#!/usr/bin/env python3
"""Lists the Swift Testing tests a log shows started but never finished.

Used by scripts/test.sh when `swift test` runs past its time limit: the names say which test
hung. Usage: unfinished_tests.py LOG
"""
import re
import sys
from collections import Counter

START = re.compile(r'^◇ Test (?!case |run )(.+?) started\.$')
END = re.compile(r'^[✔✘━] Test (?!run )(.+?) (?:with \d+ test cases? )?(?:passed|failed) after ')

started = Counter()  # by name, in the order first seen
with open(sys.argv[1], encoding='utf-8', errors='replace') as log:
    for line in log:
        line = line.rstrip('\n')
        if m := START.match(line):
            started[m.group(1)] += 1
        elif m := END.match(line):
            started[m.group(1)] -= 1

unfinished = [name for name, count in started.items() if count > 0]
for name in unfinished:
    print(f'  still running: {name}')
if not unfinished:
    print('  every test that started has finished (the hang is outside a test)')
