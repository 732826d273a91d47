"""Review finding (timing oracle, not a pytest test: timings are not deterministic here).

``repository_access.authorize`` answers a missing project after one indexed read, but a
private project the caller cannot see after ``rbac.permissions`` (role and public queries)
and, for a signed-in caller, ``record_denied`` (an audit-log write transaction). The 404s
are byte-identical; their timing is not. Usage:

    python tests/review/hidden_timing.py http://127.0.0.1:PORT <private-project> [user pw]

Seen on SQLite (one worker, idle loopback): signed-in p10/p50 hidden 2.17/2.60 ms vs
missing 1.30/1.51 ms (the fastest hidden answer slower than the median missing one);
anonymous 1.43/2.25 vs 1.12/1.72 ms.

After the fix (a missing project gets the same role/public reads and, for a signed-in
caller, the same audit record): signed-in hidden 2.06/2.59 ms vs missing 2.04/2.52 ms.
"""

import statistics
import sys
import time

import requests


def main() -> None:
    base, project = sys.argv[1], sys.argv[2]
    session = requests.Session()
    if len(sys.argv) > 4:
        session.auth = (sys.argv[3], sys.argv[4])
    hidden, missing = [], []
    for _ in range(300):
        for name, into in ((project, hidden), ("no-such-project-x9", missing)):
            started = time.perf_counter()
            session.get(f"{base}/v2/{name}/r/manifests/latest")
            into.append((time.perf_counter() - started) * 1000)
    for label, values in (("hidden", hidden), ("missing", missing)):
        q = statistics.quantiles(values, n=10)
        print(f"{label}: p10 {q[0]:.2f} p50 {q[4]:.2f} p90 {q[8]:.2f} ms")


if __name__ == "__main__":
    main()
