"""Command line: ``aimetrics load | demo | build | scorecard``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.errors import AimetricsError


def default_db_path() -> Path:
    return Path(os.environ.get("AIMETRICS_DUCKDB_PATH", PROJECT_DIR / "aimetrics.duckdb"))


def _cmd_load(args: argparse.Namespace) -> int:
    from aimetrics.load import load_files

    n = load_files(args.db, args.table, [Path(f) for f in args.files], fmt=args.format)
    print(f"loaded {n} rows into raw.{args.table} ({args.db})")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from aimetrics.pipeline import run_demo

    run_demo(db_path=args.db, scale=args.scale, seed=args.seed, out_dir=args.out_dir)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from aimetrics.pipeline import build_and_print

    build_and_print(db_path=args.db)
    return 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    from aimetrics.scorecard import print_scorecard

    print_scorecard(args.db, weeks=args.weeks)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aimetrics", description=__doc__)
    parser.add_argument(
        "--db", type=Path, default=default_db_path(),
        help="DuckDB file (default: $AIMETRICS_DUCKDB_PATH or aimetrics.duckdb in the repo)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("load", help="append CSV / Parquet / JSON Lines files to a raw table")
    p.add_argument("table", help="raw table: interactions, user_events, output_reviews, eval_results, users, infra_costs")
    p.add_argument("files", nargs="+", help="files to append, all in one transaction")
    p.add_argument("--format", choices=["csv", "parquet", "jsonl"], default=None,
                   help="file format (default: from each file's extension)")
    p.set_defaults(func=_cmd_load)

    p = sub.add_parser("demo", help="generate demo data, load it, dbt build, print the scorecard")
    p.add_argument("--scale", type=int, default=20_000, help="number of interactions (default 20000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out-dir", type=Path, default=PROJECT_DIR / "demo_data",
                   help="where the generated raw files are written")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("build", help="dbt build on the current raw data and print the scorecard")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("scorecard", help="print the scorecard of the last build")
    p.add_argument("--weeks", type=int, default=2, help="how many latest weeks to show")
    p.set_defaults(func=_cmd_scorecard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AimetricsError as exc:
        print(f"aimetrics {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
