"""Command line: ``aimetrics load | demo | build | scorecard | report | check | run | portability | evaluate | bench``."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.checks import DEFAULT_DOCS_DIR
from aimetrics.errors import AimetricsError
from aimetrics.lock import build_lock


def default_db_path() -> Path:
    return Path(os.environ.get("AIMETRICS_DUCKDB_PATH", PROJECT_DIR / "aimetrics.duckdb"))


def _cmd_load(args: argparse.Namespace) -> int:
    if args.format in ("otlp-json", "langfuse"):
        return _cmd_ingest(args)
    from aimetrics.load import load_files

    if args.mapping or any(getattr(args, f"{k}_from") for k in ("feature", "task", "user", "session")):
        raise AimetricsError("--mapping and --*-from apply to --format otlp-json or langfuse only")
    if not args.files:
        raise AimetricsError("give a raw table and the files to append to it")
    n = load_files(args.db, args.table, [Path(f) for f in args.files], fmt=args.format)
    print(f"loaded {n} rows into raw.{args.table} ({args.db})")
    print(f"from {len(args.files)} file(s); rows that break the contract are quarantined by dbt build "
          f"(quarantine.quarantine_raw__{args.table})")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    """--format otlp-json | langfuse: convert the files, then the ordinary loader, in one transaction."""
    from aimetrics.contract import raw_contract
    from aimetrics.ingest import convert, load_mapping, to_rows
    from aimetrics.load import load_tables

    files = [args.table, *args.files]
    if args.table in raw_contract() and not Path(args.table).exists():
        raise AimetricsError(f"with --format {args.format} give only files: the adapter writes "
                             "raw.interactions and raw.output_reviews")
    mapping = load_mapping(args.format, args.mapping, {k: getattr(args, f"{k}_from")
                                                       for k in ("feature", "task", "user", "session")})
    conv = convert(args.format, [Path(f) for f in files], mapping)
    inputs = to_rows(conv)
    totals = load_tables(args.db, inputs) if inputs else {}
    contract = raw_contract()
    for table, rows in (("interactions", conv.interactions), ("output_reviews", conv.reviews)):
        print(f"loaded {totals.get(table, 0)} rows into raw.{table} ({args.db})")
        missing = Counter(c for r in rows for c in contract[table].required_columns if r.get(c) in (None, ""))
        if missing:
            n = sum(1 for r in rows if any(r.get(c) in (None, "") for c in contract[table].required_columns))
            detail = ", ".join(f"{c} {k}" for c, k in sorted(missing.items()))
            print(f"  {n} of them lack a required value ({detail}): dbt build quarantines them "
                  f"(quarantine.quarantine_raw__{table})")
    for what, n in sorted(conv.skipped.items()):
        print(f"skipped {n} {what}: not rows of the raw contract")
    print(f"from {len(files)} {args.format} file(s)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from aimetrics.pipeline import run_demo

    run_demo(db_path=args.db, scale=args.scale, seed=args.seed, out_dir=args.out_dir)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from aimetrics.pipeline import build_and_print

    build_and_print(db_path=args.db, full_refresh=args.full_refresh)
    return 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    from aimetrics.scorecard import print_scorecard

    print_scorecard(args.db, weeks=args.weeks)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from aimetrics.report import write_report

    print(write_report(args.db, args.out, png=args.png, weeks=args.weeks))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from aimetrics.checks import summary, validate_with_progress

    report = validate_with_progress(args.db, args.layer, docs_dir=args.docs_dir / args.layer)
    print(summary(report))
    if report.blocked:
        print(f"aimetrics check {args.layer}: blocked by failed error-severity expectations (above)", file=sys.stderr)
        return 1
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from aimetrics.checks import run_pipeline

    return run_pipeline(args.db, docs_dir=args.docs_dir, target_path=args.target_path, dbt_vars=args.vars,
                        serving_path=args.serving)


def _cmd_portability(args: argparse.Namespace) -> int:
    from aimetrics.portability import main as portability_main

    return portability_main(verbose=args.verbose)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from aimetrics.evaluate import main as evaluate_main

    return evaluate_main(manifest_path=args.manifest, verbose=args.verbose)


def _cmd_bench(args: argparse.Namespace) -> int:
    from aimetrics.bench import run_bench

    results = run_bench(args.interactions, args.json, work_dir=args.work_dir, seed=args.seed,
                        select=args.select, incremental_tests=args.incremental_tests,
                        only=args.phases.split(",") if args.phases else None)
    agree = [results[k] for k in ("baseline_agrees", "incremental_agrees") if k in results]
    return 0 if all(agree) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aimetrics", description=__doc__)
    parser.add_argument(
        "--db", type=Path, default=default_db_path(),
        help="DuckDB file (default: $AIMETRICS_DUCKDB_PATH or aimetrics.duckdb in the repo)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("load", help="append CSV / Parquet / JSON Lines files to a raw table, or convert "
                                    "OpenTelemetry GenAI traces / Langfuse exports (--format otlp-json | langfuse)")
    p.add_argument("table", help="raw table: interactions, user_events, output_reviews, eval_results, users, "
                                 "infra_costs (with --format otlp-json or langfuse: the first file)")
    p.add_argument("files", nargs="*", help="files to append, all in one transaction")
    p.add_argument("--format", choices=["csv", "parquet", "jsonl", "otlp-json", "langfuse"], default=None,
                   help="file format (default: from each file's extension); otlp-json and langfuse convert "
                        "traces to raw.interactions and raw.output_reviews")
    p.add_argument("--mapping", type=Path, default=None,
                   help="YAML file: where feature, task, user and session come from, and review verdict rules")
    for key, default in (("feature", "gen_ai.agent.name,service.name | trace.name,observation.trace_name"),
                         ("task", "trace_id | trace.id,observation.trace_id"),
                         ("user", "user.id,enduser.id | trace.user_id,observation.user_id"),
                         ("session", "gen_ai.conversation.id,session.id | trace.session_id,observation.session_id")):
        p.add_argument(f"--{key}-from", default=None, metavar="KEYS",
                       help=f"comma-separated source keys for {key}, first non-empty wins; '=text' is a constant "
                            f"(default otlp-json | langfuse: {default})")
    p.set_defaults(func=_cmd_load)

    p = sub.add_parser("demo", help="generate demo data, load it, dbt build, print the scorecard")
    p.add_argument("--scale", type=int, default=20_000, help="number of interactions (default 20000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out-dir", type=Path, default=PROJECT_DIR / "demo_data",
                   help="where the generated raw files are written")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("build", help="dbt build on the current raw data and print the scorecard")
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild the incremental models from all raw data (default: only the dates new rows touch)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("scorecard", help="print the scorecard of the last build")
    p.add_argument("--weeks", type=int, default=2, help="how many latest weeks to show")
    p.set_defaults(func=_cmd_scorecard)

    p = sub.add_parser("report", help="write the scorecard, metric trends against their thresholds, retention, "
                                      "calibration and drift as one self-contained HTML page (optionally a PNG)")
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p.add_argument("--png", type=Path, default=None,
                   help="also screenshot the page to this PNG with headless Chromium (scripts/chromium.sh)")
    p.add_argument("--weeks", type=int, default=2, help="latest weeks in the scorecard table (default 2)")
    p.set_defaults(func=_cmd_report)

    docs_help = "folder for the GX Data Docs (HTML), one subfolder per layer (default: data_docs in the repo)"
    p = sub.add_parser("check", help="validate the raw tables or the marts against their GX suites (contracts/)")
    p.add_argument("layer", choices=["raw", "marts"], help="raw: before dbt build; marts: after it")
    p.add_argument("--docs-dir", type=Path, default=DEFAULT_DOCS_DIR, help=docs_help)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("run", help="check raw -> dbt build -> check marts, stopping at the first blocking failure")
    p.add_argument("--docs-dir", type=Path, default=DEFAULT_DOCS_DIR, help=docs_help)
    p.add_argument("--target-path", type=Path, default=None,
                   help="dbt target folder (default: target in the repo)")
    p.add_argument("--vars", default=None, metavar="YAML",
                   help="dbt vars, e.g. '{min_sample: 50}': numbers, booleans, lists of numbers or plain names")
    p.add_argument("--serving", type=Path, default=None, metavar="PATH",
                   help="serving copy of the marts for BI tools, replaced atomically when the run passes "
                        "(default: $AIMETRICS_SERVING_PATH or <db stem>_serving.duckdb beside --db)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("portability", help="compile the project and check its SQL transpiles to Snowflake, "
                                           "BigQuery and Databricks (sqlglot); exit 1 on an untranslatable construct")
    p.add_argument("--verbose", action="store_true", help="also list the findings covered by dispatched macro variants")
    p.set_defaults(func=_cmd_portability)

    p = sub.add_parser("evaluate", help="dbt-project-evaluator's rules on the project's manifest; exit 1 on a "
                                        "finding not excepted in seeds/dbt_project_evaluator_exceptions.csv")
    p.add_argument("--manifest", type=Path, default=None,
                   help="a manifest.json to read (default: run dbt parse into a temporary folder)")
    p.add_argument("--verbose", action="store_true", help="also list the excepted findings and their reasons")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("bench", help="generate demo data at scale and time the full dbt build, the build with "
                                     "tests, a daily incremental run and a hand-written DuckDB baseline, with "
                                     "peak RSS each; exit 1 when the baseline disagrees with the mart")
    p.add_argument("--interactions", type=int, default=100_000, help="interactions to generate (default 100000)")
    p.add_argument("--json", type=Path, required=True, help="where to write the results (JSON)")
    p.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "bench_work",
                   help="folder for the data, the DuckDB file and the phase logs (default: bench_work in the "
                        "repo; data of the same scale and seed is reused)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--select", default=None, metavar="SELECTOR",
                   help="dbt node selection for the build phases (default: the whole project; e.g. "
                        "'+metrics_daily' for the mart and what it reads)")
    p.add_argument("--no-incremental-tests", dest="incremental_tests", action="store_false",
                   help="skip the `dbt test` phase after the daily run")
    p.add_argument("--phases", default=None, metavar="LIST",
                   help="comma-separated phases to run (default: all); without load they run on the work "
                        "folder's database from an earlier run and are merged into its JSON")
    p.set_defaults(func=_cmd_bench)
    return parser


#: commands that write the database: one at a time per database (aimetrics/lock.py)
WRITERS = ("load", "demo", "build", "run")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with build_lock(args.db, f"aimetrics {args.command}") if args.command in WRITERS else nullcontext():
            code = args.func(args)
    except AimetricsError as exc:
        print(f"aimetrics {args.command}: error: {exc}", file=sys.stderr)
        code = 2
    if argv is None and "great_expectations" in sys.modules:  # the program (check, run), not a test calling main()
        from aimetrics.gx_compat import exit_without_teardown

        exit_without_teardown(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
