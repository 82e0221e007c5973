#!/usr/bin/env bash
# GX validation of the raw tables at scale, in the database (issue 3). Not run in CI.
#
#   bench/check_raw_scale.sh [SCALE] [WORKDIR]     (default: 5000000 interactions, /tmp/aimetrics_bench)
#
# 1. generates the demo data at SCALE interactions (~5.5 events each) and loads it
#    with `aimetrics load` into WORKDIR/bench.duckdb (no dbt build: only raw is checked);
# 2. runs `aimetrics check raw` on it under /usr/bin/time -v and prints the row counts,
#    the wall-clock seconds and the peak resident memory.
# Every expectation is a SQL query in DuckDB; the peak RSS staying far below the size
# of the data shows no table is read into pandas.
set -euo pipefail
SCALE=${1:-5000000}
WORK=${2:-/tmp/aimetrics_bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
mkdir -p "$WORK"
DB="$WORK/bench.duckdb"
if [ ! -f "$DB" ]; then
  "$PY" -c "from pathlib import Path; from aimetrics.pipeline import load_demo; \
load_demo(Path('$DB'), $SCALE, 42, Path('$WORK/data'))"
fi
"$PY" -c "import duckdb; c = duckdb.connect('$DB', read_only=True); \
[print(f'raw.{t}: {c.execute(f\"select count(*) from raw.{t}\").fetchone()[0]:,} rows') \
 for t in ('interactions', 'user_events', 'output_reviews', 'eval_results', 'users', 'infra_costs')]"
/usr/bin/time -v "$PY" -m aimetrics.cli --db "$DB" check raw --docs-dir "$WORK/docs" 2> "$WORK/time.txt" || true
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$WORK/time.txt"
du -h "$DB"
