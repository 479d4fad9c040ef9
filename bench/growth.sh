#!/usr/bin/env bash
# Cost growth of one decision (criterion, `cargo bench --bench decide -- growth`): with 1 to
# 10,000 --map entries and SDL1 keys (should stay flat; measured through the whole decision and,
# free of syscall noise, the map lookup and the SDL1 verification alone), 1 to 16 keys of a compatibility scheme
# (their links name no key: linear, hence the cap), and path depth (linear). Writes the medians
# to bench/last-run/growth.tsv (read by bench/report.py) and prints them.
#
#   bench/growth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Old sizes left by earlier runs must not show up in this run's table.
rm -rf target/criterion/growth
mkdir -p bench/last-run
if ! cargo bench --bench decide --locked -q -- growth >bench/last-run/growth.log 2>&1; then
  cat bench/last-run/growth.log >&2
  exit 1
fi
rm -f bench/last-run/growth.log
python3 - <<'PY'
import json, os
base = "target/criterion/growth"
rows = []
for group in ("map-entries", "map-lookup", "key-ring", "sdl1-verify", "legacy-key-ring", "path-depth"):
    d = os.path.join(base, group)
    for n in sorted((int(x) for x in os.listdir(d) if x.isdigit()), key=int):
        est = json.load(open(os.path.join(d, str(n), "new", "estimates.json")))["median"]
        ci = est["confidence_interval"]
        rows.append((group, n, est["point_estimate"], ci["lower_bound"], ci["upper_bound"]))
with open("bench/last-run/growth.tsv", "w") as f:
    f.write("group\tn\tmedian_ns\tlow_ns\thigh_ns\n")
    for r in rows:
        f.write(f"{r[0]}\t{r[1]}\t{r[2]:.0f}\t{r[3]:.0f}\t{r[4]:.0f}\n")
for r in rows:
    print(f"{r[0]:16} {r[1]:>6}  {r[2] / 1000:6.2f} µs  [{r[3] / 1000:.2f} – {r[4] / 1000:.2f}]")
PY
