"""``aimetrics portability``: can the compiled project run on other warehouses?

What it does:

1. compiles the project with dbt (``dbt compile``) on DuckDB, into a
   temporary target folder with a temporary DuckDB file holding empty raw
   tables of the raw contract (compilation introspects them);
2. parses every compiled model with sqlglot in the DuckDB dialect (a parse
   error is a finding: the report cannot vouch for SQL it cannot read);
3. transpiles each model to each target dialect (Snowflake, BigQuery,
   Databricks), recording every construct sqlglot reports as unsupported;
4. parses the output again in the target dialect and checks every function
   call against the functions the target documents
   (``aimetrics/portability_functions.yml``, with the source of each list),
   and against the known approximate or semantics-changing rewrites listed
   there.

It transpiles the *DuckDB* compilation: dbt compiles a project only through
an installed adapter with a live connection, and the Snowflake, BigQuery and
Databricks adapters need accounts these machines do not have. In real use
those engines compile through dbt's dispatch, so a construct whose macro has
a variant for the target (``snowflake__`` / ``bigquery__`` / ``databricks__``
in ``macros/cross_db.sql``) is reported as *covered by dispatch* instead of
as a failure — provided the variant exists in the compiled project's
manifest (checked) and the yml names it.

The Python UDF text checks (``python_udfs/``) exist in DuckDB only; the
project switches them off on other engines (var ``python_udfs_enabled``,
default true on DuckDB only), so the compilation checked here has them off,
as those engines would.

Exit 0 only when no finding is left that is neither translated nor covered.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError

from aimetrics import PROJECT_DIR

FUNCTIONS_FILE = Path(__file__).with_name("portability_functions.yml")
TARGETS = ("snowflake", "bigquery", "databricks")
#: compiled as the other warehouses compile it: the Python UDF text checks
#: (python_udfs/, registered in DuckDB only) are off there (var python_udfs_enabled)
COMPILE_VARS = {"python_udfs_enabled": False}
_HEAD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\(")


@dataclass
class Finding:
    model: str
    target: str
    kind: str  # parse_error | unsupported | undocumented | approximate | covered
    detail: str

    @property
    def blocking(self) -> bool:
        return self.kind != "covered"


@dataclass
class Report:
    models: int = 0
    findings: list[Finding] = field(default_factory=list)

    def blocking(self, target: str | None = None) -> list[Finding]:
        return [f for f in self.findings if f.blocking and (target is None or f.target == target)]

    def covered(self, target: str | None = None) -> list[Finding]:
        return [f for f in self.findings if not f.blocking and (target is None or f.target == target)]

    @property
    def ok(self) -> bool:
        return not self.blocking()


def load_function_lists(path: Path = FUNCTIONS_FILE) -> dict:
    """{target: {'functions': set(UPPER names), 'flag': {NAME: reason}, 'dispatched': {NAME: macro}}}."""
    data = yaml.safe_load(path.read_text())
    out = {}
    for target in TARGETS:
        spec = data["targets"][target]
        out[target] = {
            "functions": {f.upper() for f in spec["functions"]},
            "flag": {k.upper(): v for k, v in (spec.get("flag") or {}).items()},
            "dispatched": {k.upper(): v for k, v in (spec.get("dispatched") or {}).items()},
        }
    return out


# ---------------------------------------------------------------- compiling

def _empty_raw_tables(db_path: Path) -> None:
    from aimetrics.contract import raw_contract
    from aimetrics.load import SQL_TYPES

    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists raw")
        for table in raw_contract().values():
            cols = ", ".join(f'"{c.name}" {SQL_TYPES[c.data_type]}' for c in table.columns)
            con.execute(f'create table if not exists raw."{table.name}" ({cols})')
    finally:
        con.close()


def compile_variants(workdir: Path, variants: list[str], macro_sql: dict[str, str]) -> dict[str, str]:
    """{variant macro: its SQL}, rendered by dbt with placeholder column names as arguments."""
    from aimetrics.dbt_runner import run_dbt

    if not variants:
        return {}
    exprs = []
    for i, variant in enumerate(variants):
        m = re.search(r"macro\s+" + re.escape(variant) + r"\s*\(([^)]*)\)", macro_sql[variant])
        params = [a.split("=")[0].strip() for a in (m.group(1).split(",") if m and m.group(1).strip() else [])]
        args = ", ".join(f"'a{j}'" for j, _ in enumerate(params, 1))
        exprs.append(f"{{{{ aimetrics.{variant}({args}) }}}} as v{i}")
    inline = "select " + ",\n ".join(exprs) + " from t"
    proc = run_dbt(["compile", "--inline", inline, "--output", "json", "--quiet"],
                   duckdb_path=workdir / "portability.duckdb", target_path=workdir / "target_inline",
                   dbt_vars=COMPILE_VARS)
    compiled = json.loads(proc.stdout[proc.stdout.index("{"):])["compiled"]
    parts = {}
    # split the select list back into one expression per variant, by its alias
    for i, variant in enumerate(variants):
        start = compiled.index("select ") + len("select ") if i == 0 else compiled.index(f" as v{i - 1},") + len(f" as v{i - 1},")
        end = compiled.index(f" as v{i}", start)
        parts[variant] = compiled[start:end].strip()
    return parts


def compile_models(workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """{model name: compiled SQL} of every enabled model, and {macro name: its source} of the project."""
    from aimetrics.dbt_runner import run_dbt

    db = workdir / "portability.duckdb"
    target = workdir / "target"
    _empty_raw_tables(db)
    run_dbt(["compile", "--select", "resource_type:model"], duckdb_path=db, target_path=target, dbt_vars=COMPILE_VARS)
    manifest = json.loads((target / "manifest.json").read_text())
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node.get("compiled_code") is not None:
            models[node["name"]] = node["compiled_code"]
    macros = {m["name"]: m["macro_sql"] for m in manifest["macros"].values() if m.get("package_name") == "aimetrics"}
    return models, macros


# ---------------------------------------------------------------- checking

def function_names(tree: exp.Expression, dialect: str) -> set[str]:
    """Names of the function calls in a parsed statement, as the dialect writes them."""
    names = set()
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            names.add(node.name.upper())
            continue
        m = _HEAD.match(node.sql(dialect=dialect))
        if m:
            names.add(m.group(1).upper())
    return names


def check_model(name: str, sql: str, lists: dict, macros: set[str], targets: Iterable[str] = TARGETS) -> list[Finding]:
    findings: list[Finding] = []
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except ParseError as exc:
        return [Finding(name, t, "parse_error", f"sqlglot cannot parse the DuckDB SQL: {str(exc)[:300]}")
                for t in targets]
    for target in targets:
        spec = lists[target]
        generator = sqlglot.Dialect.get_or_raise(target).generator(unsupported_level=ErrorLevel.IGNORE)
        out = []
        for tree in trees:
            out.append(generator.generate(tree.copy()))
        for message in dict.fromkeys(generator.unsupported_messages):
            findings.append(Finding(name, target, "unsupported", message))
        try:
            reparsed = [t for t in sqlglot.parse(";\n".join(out), read=target) if t is not None]
        except ParseError as exc:
            findings.append(Finding(name, target, "unsupported",
                                    f"the {target} output does not parse as {target}: {str(exc)[:300]}"))
            continue
        used = set()
        for tree in reparsed:
            used |= function_names(tree, target)
        for fn in sorted(used):
            dispatched = spec["dispatched"].get(fn)
            if fn in spec["flag"]:
                kind, detail = "approximate", f"{fn}: {spec['flag'][fn]}"
            elif fn not in spec["functions"]:
                kind, detail = "undocumented", f"{fn} is not a documented {target} function"
            else:
                continue
            if dispatched:
                macro, via = (dispatched["macro"], dispatched.get("variant", target)) \
                    if isinstance(dispatched, dict) else (dispatched, target)
                own = f"{target}__{macro}"
                if via == "default":  # the target falls back to the portable default__
                    ok, variant = f"default__{macro}" in macros and own not in macros, f"default__{macro}"
                else:
                    ok, variant = own in macros, own
                if ok:
                    findings.append(Finding(name, target, "covered",
                                            f"{detail} -- covered: real {target} builds compile "
                                            f"aimetrics.{macro} through {variant}"))
                    continue
                detail += f" (the yml names macro {macro}, but {variant} is not what {target} would use)"
            findings.append(Finding(name, target, kind, detail))
    return findings


def check_variant(variant: str, sql: str, target: str, lists: dict) -> list[Finding]:
    """A dispatched variant's own SQL must parse in its dialect and call only documented functions."""
    spec = lists[target]
    label = f"macro {variant}"
    try:
        tree = sqlglot.parse_one(f"select {sql} from t", read=target)
    except ParseError as exc:
        return [Finding(label, target, "parse_error", f"does not parse as {target}: {str(exc)[:300]}")]
    findings = []
    for fn in sorted(function_names(tree, target)):
        if fn in spec["flag"]:
            findings.append(Finding(label, target, "approximate", f"{fn}: {spec['flag'][fn]}"))
        elif fn not in spec["functions"]:
            findings.append(Finding(label, target, "undocumented", f"{fn} is not a documented {target} function"))
    return findings


_COVERED_BY = re.compile(r"through ([A-Za-z0-9_]+)$")


def check_project(workdir: Path | None = None, targets: Iterable[str] = TARGETS) -> Report:
    lists = load_function_lists()
    targets = list(targets)
    with tempfile.TemporaryDirectory(prefix="aimetrics-portability-") as tmp:
        work = Path(workdir or tmp)
        models, macros = compile_models(work)
        report = Report(models=len(models))
        for name in sorted(models):
            report.findings += check_model(name, models[name], lists, set(macros), targets)
        # the variants the covered findings rely on are checked in their own dialect
        needed = sorted({(f.target, _COVERED_BY.search(f.detail).group(1)) for f in report.covered()})
        rendered = compile_variants(work, sorted({v for _, v in needed}), macros)
        for target, variant in needed:
            report.findings += check_variant(variant, rendered[variant], target, lists)
    return report


def format_report(report: Report, targets: Iterable[str] = TARGETS, verbose: bool = False) -> str:
    lines = [f"aimetrics portability: {report.models} compiled models, DuckDB SQL transpiled by sqlglot "
             f"{sqlglot.__version__}"]
    for target in targets:
        blocking, covered = report.blocking(target), report.covered(target)
        status = "OK" if not blocking else "FAIL"
        lines.append(f"  {target:<11} {status}: {len(blocking)} untranslatable or flagged, "
                     f"{len(covered)} covered by a dispatched macro variant")
    by_model: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.blocking or verbose:
            by_model.setdefault(f.model, []).append(f)
    for model in sorted(by_model):
        lines.append(f"{model}:")
        for f in by_model[model]:
            lines.append(f"  [{f.target}] {f.kind}: {f.detail}")
    return "\n".join(lines)


def main(verbose: bool = False) -> int:
    report = check_project()
    print(format_report(report, verbose=verbose))
    return 0 if report.ok else 1
