"""``aimetrics evaluate``: dbt-project-evaluator's rules, read from ``manifest.json``.

dbt Labs' dbt-project-evaluator package (a dbt package, from dbt Hub / GitHub)
cannot be installed where this project is built and tested: only PyPI, Debian
and npm are reachable, and the package is on none of them. This module applies
the rules that package documents to the manifest ``dbt parse`` writes, under the
package's own rule names (``fct_...``), output columns and default thresholds,
and honours the package's exceptions seed
(``seeds/dbt_project_evaluator_exceptions.csv``: fct_name, column_name,
id_to_exclude, comment; ``id_to_exclude`` is a SQL LIKE pattern), so the
project can switch to the real package without changing either. Threshold and
naming overrides are read from ``vars: dbt_project_evaluator:`` in
``dbt_project.yml``, where the package reads them.

Differences from the package (all narrower, none hides a finding the seed
would not): the coverage rules count generic tests attached to a model
(singular tests and unit tests are not counted); ``fct_hard_coded_references``
is a regular expression over the model's raw SQL with comments and string
literals removed. The package's other rules (duplicate sources, too many joins,
source freshness, ...) are not implemented.

Exit status: 0 when every finding is excepted by a seed row with a comment, 1
when a finding is left (or an exception has no comment or matches nothing),
2 on an unreadable manifest or seed (a clear message, no traceback).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Callable

import yaml

from aimetrics import PROJECT_DIR
from aimetrics.errors import AimetricsError

EXCEPTIONS_SEED = Path("seeds") / "dbt_project_evaluator_exceptions.csv"
SEED_COLUMNS = ["fct_name", "column_name", "id_to_exclude", "comment"]

#: The package's documented defaults ("Overriding Variables" page).
DEFAULTS: dict = {
    "models_fanout_threshold": 3,
    "chained_views_threshold": 4,
    "test_coverage_target": 100,
    "documentation_coverage_target": 100,
    "primary_key_test_macros": [["dbt.test_unique", "dbt.test_not_null"],
                                ["dbt_utils.test_unique_combination_of_columns"]],
    "enforced_primary_key_node_types": ["model"],
    "model_types": ["staging", "intermediate", "marts", "other"],
    "staging_folder_name": "staging",
    "intermediate_folder_name": "intermediate",
    "marts_folder_name": "marts",
    "staging_prefixes": ["stg_"],
    "intermediate_prefixes": ["int_"],
    "marts_prefixes": ["fct_", "dim_"],
    "other_prefixes": ["rpt_"],
}

VIEWISH = ("view", "ephemeral")


class Project:
    """The graph of one manifest: resources (models, seeds, snapshots, sources,
    exposures) by unique_id with the fields the rules use, and direct edges."""

    def __init__(self, manifest: dict, config: dict):
        self.config = config
        self.res: dict[str, dict] = {}
        self.tests: list[dict] = []
        for uid, n in manifest["nodes"].items():
            if n["resource_type"] == "test":
                self.tests.append(n)
            elif n["resource_type"] in ("model", "seed", "snapshot"):
                self._add(uid, n, n["name"])
        for uid, n in manifest["sources"].items():
            self._add(uid, n, f"{n['source_name']}.{n['name']}")
        for uid, n in manifest["exposures"].items():
            self._add(uid, n, n["name"])
        self.parents: dict[str, list[str]] = defaultdict(list)
        self.children: dict[str, list[str]] = defaultdict(list)
        for uid, r in self.res.items():
            for p in r["node"].get("depends_on", {}).get("nodes", []):
                if p in self.res:
                    self.parents[uid].append(p)
                    self.children[p].append(uid)
        self.tests_by_model: dict[str, list[dict]] = defaultdict(list)
        for t in self.tests:
            if t.get("attached_node"):
                self.tests_by_model[t["attached_node"]].append(t)

    def _add(self, uid: str, n: dict, name: str) -> None:
        path = n.get("original_file_path") or ""
        directory = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        cfg = n.get("config") or {}
        self.res[uid] = {
            "node": n, "id": uid, "name": name, "type": n["resource_type"],
            "file_path": path, "directory_path": directory, "file_name": path.rsplit("/", 1)[-1],
            "materialized": cfg.get("materialized"),
            "described": bool((n.get("description") or "").strip()),
            "access": n.get("access"),
        }
        if n["resource_type"] == "model":
            self.res[uid].update(self._model_type(n["name"], directory))

    def _model_type(self, name: str, directory: str) -> dict:
        """As the package: the type of the name's prefix, else of the folder
        nearest the file, else 'other'."""
        c = self.config
        prefix = name.split("_", 1)[0] + "_"
        by_prefix = next((t for t in c["model_types"] if prefix in c.get(f"{t}_prefixes", [])), None)
        by_folder, best = None, -1
        for t in c["model_types"]:
            folder = c.get(f"{t}_folder_name")
            pos = directory.rfind(folder) if folder else -1
            if pos > best:
                by_folder, best = t, pos
        return {"prefix": prefix, "model_type": by_prefix or by_folder or "other", "model_type_folder": by_folder}

    def of_type(self, *types: str) -> list[dict]:
        return [r for r in self.res.values() if r["type"] in types]

    def direct_edges(self):
        """(parent, child) resource pairs at distance 1."""
        for child_id, parent_ids in self.parents.items():
            for p in parent_ids:
                yield self.res[p], self.res[child_id]


# ---------------------------------------------------------------- rules
# Each rule returns the rows its fct_ model would hold (column names as the package's).


def fct_direct_join_to_source(p: Project) -> list[dict]:
    rows = []
    for child in p.of_type("model"):
        parents = [p.res[x] for x in p.parents[child["id"]]]
        if any(x["type"] == "model" for x in parents) and any(x["type"] == "source" for x in parents):
            rows += [{"parent": x["name"], "parent_resource_type": x["type"], "child": child["name"],
                      "child_resource_type": "model"} for x in parents]
    return rows


def fct_marts_or_intermediate_dependent_on_source(p: Project) -> list[dict]:
    return [{"parent": a["name"], "parent_resource_type": a["type"], "child": b["name"],
             "child_model_type": b["model_type"]}
            for a, b in p.direct_edges()
            if a["type"] == "source" and b["type"] == "model" and b["model_type"] in ("marts", "intermediate")]


def fct_model_fanout(p: Project) -> list[dict]:
    threshold = p.config["models_fanout_threshold"]
    rows = []
    for parent in p.res.values():
        leaves = sorted(p.res[c]["name"] for c in p.children[parent["id"]]
                        if p.res[c]["type"] == "model" and not p.children[c])
        if len(leaves) >= threshold:
            rows.append({"parent": parent["name"], "leaf_children": ", ".join(leaves)})
    return rows


def fct_multiple_sources_joined(p: Project) -> list[dict]:
    rows = []
    for child in p.res.values():
        sources = sorted(p.res[x]["name"] for x in p.parents[child["id"]] if p.res[x]["type"] == "source")
        if len(sources) > 1:
            rows.append({"child": child["name"], "source_parents": ", ".join(sources)})
    return rows


def fct_rejoining_of_upstream_concepts(p: Project) -> list[dict]:
    """parent -> child directly and through parent_and_child, a direct child of
    parent whose only child is child (a loop that could be one model)."""
    rows = []
    for parent in p.res.values():
        kids = [k for k in p.children[parent["id"]] if p.res[k]["type"] != "exposure"]
        for middle in kids:
            grandkids = [g for g in p.children[middle] if p.res[g]["type"] != "exposure"]
            if len(p.children[middle]) == 1 and grandkids and grandkids[0] in kids:
                rows.append({"parent": parent["name"], "child": p.res[grandkids[0]]["name"],
                             "parent_and_child": p.res[middle]["name"]})
    return rows


def fct_root_models(p: Project) -> list[dict]:
    return [{"child": m["name"]} for m in p.of_type("model") if not p.parents[m["id"]]]


def fct_source_fanout(p: Project) -> list[dict]:
    rows = []
    for s in p.of_type("source"):
        models = sorted(p.res[c]["name"] for c in p.children[s["id"]] if p.res[c]["type"] == "model")
        if len(models) > 1:
            rows.append({"parent": s["name"], "model_children": ", ".join(models)})
    return rows


def _layer_edges(p: Project, parent_types: tuple, child_types: tuple) -> list[dict]:
    return [{"parent": a["name"], "parent_model_type": a["model_type"], "child": b["name"],
             "child_model_type": b["model_type"]}
            for a, b in p.direct_edges()
            if a["type"] in ("model", "snapshot") and b["type"] in ("model", "snapshot")
            and a.get("model_type") in parent_types and b.get("model_type") in child_types]


def fct_staging_dependent_on_marts_or_intermediate(p: Project) -> list[dict]:
    return _layer_edges(p, ("marts", "intermediate"), ("staging",))


def fct_staging_dependent_on_staging(p: Project) -> list[dict]:
    return _layer_edges(p, ("staging",), ("staging",))


def fct_unused_sources(p: Project) -> list[dict]:
    return [{"parent": s["name"]} for s in p.of_type("source") if not p.children[s["id"]]]


_PART = r"(?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*|\{\{[^}]*\}\})"
_HARD_CODED = re.compile(rf"\b(?:from|join)\s+({_PART}(?:\s*\.\s*{_PART})+)", re.IGNORECASE)
_NOISE = [
    re.compile(r"\{#.*?#\}", re.DOTALL),           # jinja comments
    re.compile(r"/\*.*?\*/", re.DOTALL),            # block comments
    re.compile(r"--[^\n]*"),                        # line comments
    re.compile(r"'(?:[^']|'')*'"),                  # string literals
    re.compile(r"\(\s*\w+\s+from\b", re.IGNORECASE),  # extract(epoch from x.y), trim(both from ...)
]


def hard_coded_references(sql: str) -> list[str]:
    """Relations named in FROM / JOIN by a dotted name instead of ref() / source()."""
    sql = _NOISE[0].sub(" ", sql)
    jinja = re.findall(r"\{\{.*?\}\}", sql, re.DOTALL)  # kept whole: their quotes are not SQL literals
    sql = re.sub(r"\{\{.*?\}\}", lambda m: f"__jinja_{jinja.index(m.group(0))}__", sql, flags=re.DOTALL)
    for pattern in _NOISE[1:]:
        sql = pattern.sub(" ", sql)
    found = []
    for m in _HARD_CODED.finditer(sql):
        ref = re.sub(r"__jinja_(\d+)__", lambda j: jinja[int(j.group(1))], re.sub(r"\s+", " ", m.group(1)))
        if "ref(" not in ref and "source(" not in ref and ref not in found:
            found.append(ref)
    return found


def fct_hard_coded_references(p: Project) -> list[dict]:
    rows = []
    for m in p.of_type("model"):
        refs = hard_coded_references(m["node"].get("raw_code") or "")
        if refs:
            rows.append({"model": m["name"], "hard_coded_references": ", ".join(refs)})
    return rows


def _test_macros(test: dict) -> set[str]:
    """'package.test_name' of a test node, e.g. dbt.test_unique."""
    out = set()
    for macro in test.get("depends_on", {}).get("macros", []):
        _, package, name = macro.split(".", 2)
        if name.startswith("test_"):
            out.add(f"{package}.{name}")
    return out


def _test_summary(p: Project) -> list[dict]:
    """Per model (as int_model_test_summary): primary-key tested, number of tests."""
    out = []
    types = p.config["enforced_primary_key_node_types"]
    for m in p.of_type(*types):
        tests = p.tests_by_model[m["id"]]
        by_column: dict = defaultdict(set)
        for t in tests:
            by_column[t.get("column_name")] |= _test_macros(t)
        pk = any(set(entry) <= macros for entry in p.config["primary_key_test_macros"]
                 for macros in by_column.values())
        out.append({"resource_name": m["name"], "model_type": m.get("model_type"),
                    "is_primary_key_tested": pk, "number_of_tests_on_model": len(tests)})
    return out


def fct_missing_primary_key_tests(p: Project) -> list[dict]:
    return [r for r in _test_summary(p) if not r["is_primary_key_tested"]]


def _coverage(p: Project, covered: Callable[[dict], bool], name: str, target_var: str) -> list[dict]:
    models = p.of_type("model")
    if not models:
        return []
    pct = round(100.0 * sum(map(covered, models)) / len(models), 2)
    target = p.config[target_var]
    missing = sorted(m["name"] for m in models if not covered(m))
    if pct >= target:
        return []
    return [{"total_models": len(models), f"{name}_pct": pct, "target": target,
             "models_without": ", ".join(missing)}]


def fct_test_coverage(p: Project) -> list[dict]:
    return _coverage(p, lambda m: bool(p.tests_by_model[m["id"]]), "test_coverage", "test_coverage_target")


def fct_documentation_coverage(p: Project) -> list[dict]:
    return _coverage(p, lambda m: m["described"], "documentation_coverage", "documentation_coverage_target")


def fct_undocumented_models(p: Project) -> list[dict]:
    return [{"resource_name": m["name"], "model_type": m["model_type"]}
            for m in p.of_type("model") if not m["described"]]


def fct_undocumented_sources(p: Project) -> list[dict]:
    names = sorted({s["node"]["source_name"] for s in p.of_type("source")
                    if not (s["node"].get("source_description") or "").strip()})
    return [{"resource_name": n} for n in names]


def fct_undocumented_source_tables(p: Project) -> list[dict]:
    return [{"resource_name": s["name"]} for s in p.of_type("source") if not s["described"]]


def fct_model_naming_conventions(p: Project) -> list[dict]:
    c = p.config
    return [{"resource_name": m["name"], "prefix": m["prefix"], "model_type": m["model_type"],
             "appropriate_prefixes": ", ".join(sorted(c.get(f"{m['model_type']}_prefixes", [])))}
            for m in p.of_type("model") if m["prefix"] not in c.get(f"{m['model_type']}_prefixes", [])]


def fct_model_directories(p: Project) -> list[dict]:
    c, rows = p.config, []
    for m in p.of_type("model"):
        row = {"resource_name": m["name"], "resource_type": "model", "model_type": m["model_type"],
               "current_file_path": m["file_path"]}
        if m["model_type"] == "staging":
            for s in sorted({p.res[x]["node"]["source_name"] for x in p.parents[m["id"]]
                             if p.res[x]["type"] == "source"}):
                if s not in m["directory_path"]:
                    rows.append({**row, "change_file_path_to":
                                 f"models/{c['staging_folder_name']}/{s}/{m['file_name']}"})
        if m["model_type_folder"] is not None and m["model_type"] != m["model_type_folder"]:
            folder = c.get(f"{m['model_type']}_folder_name", m["model_type"])
            rows.append({**row, "change_file_path_to": f"models/.../{folder}/.../{m['file_name']}"})
    return rows


def fct_source_directories(p: Project) -> list[dict]:
    c = p.config
    return [{"resource_name": s["name"], "resource_type": "source", "current_file_path": s["file_path"],
             "change_file_path_to": f"models/{c['staging_folder_name']}/{s['node']['source_name']}/{s['file_name']}"}
            for s in p.of_type("source") if s["node"]["source_name"] not in s["directory_path"]]


def fct_test_directories(p: Project) -> list[dict]:
    rows = []
    for t in p.tests:
        model = p.res.get(t.get("attached_node") or "")
        if model is None or model["type"] != "model":
            continue
        test_dir = t["original_file_path"].rsplit("/", 1)[0] + "/"
        if test_dir != model["directory_path"]:
            rows.append({"test_name": t["name"], "model_name": model["name"],
                         "current_test_directory": test_dir, "change_test_directory_to": model["directory_path"]})
    return rows


def fct_chained_views_dependencies(p: Project) -> list[dict]:
    """Paths parent -> ... -> child (a model) longer than chained_views_threshold
    on which every node before child is a view or ephemeral model."""
    threshold, rows = p.config["chained_views_threshold"], []

    def walk(path: list[str]) -> None:
        last = p.res[path[-1]]
        if last["type"] != "model" or last["materialized"] not in VIEWISH:
            return
        for c in p.children[path[-1]]:
            child = p.res[c]
            new = path + [c]
            if child["type"] == "model" and len(new) - 1 > threshold:
                rows.append({"parent": p.res[new[0]]["name"], "child": child["name"], "distance": len(new) - 1,
                             "path": " > ".join(p.res[x]["name"] for x in new)})
            walk(new)

    for r in p.of_type("model"):
        walk([r["id"]])
    return rows


def fct_exposure_parents_materializations(p: Project) -> list[dict]:
    return [{"parent_resource_name": a["name"], "exposure_name": b["name"],
             "parent_materialization": a["materialized"] if a["type"] == "model" else a["type"]}
            for a, b in p.direct_edges()
            if b["type"] == "exposure" and (a["type"] == "source" or
                                            (a["type"] == "model" and a["materialized"] in VIEWISH))]


def fct_public_models_without_contract(p: Project) -> list[dict]:
    return [{"resource_name": m["name"], "is_public": True, "contract_enforced": False}
            for m in p.of_type("model")
            if m["access"] == "public" and not (m["node"].get("contract") or {}).get("enforced")]


def fct_undocumented_public_models(p: Project) -> list[dict]:
    rows = []
    for m in p.of_type("model"):
        cols = m["node"].get("columns") or {}
        described = sum(bool((c.get("description") or "").strip()) for c in cols.values())
        if m["access"] == "public" and (not m["described"] or not cols or described < len(cols)):
            rows.append({"resource_name": m["name"], "access": "public", "is_described": m["described"],
                         "total_defined_columns": len(cols), "total_described_columns": described})
    return rows


def fct_exposures_dependent_on_private_models(p: Project) -> list[dict]:
    return [{"exposure_name": b["name"], "parent_resource_name": a["name"], "parent_access": a["access"],
             "parent_resource_type": a["type"]}
            for a, b in p.direct_edges()
            if b["type"] == "exposure" and not (a["type"] == "model" and a["access"] == "public")]


#: (category, rule). Coverage rules are one row per project and, as in the
#: package, cannot be excepted (lower the target var instead).
RULES: list[tuple[str, Callable[[Project], list[dict]]]] = [
    ("modeling", fct_direct_join_to_source),
    ("modeling", fct_marts_or_intermediate_dependent_on_source),
    ("modeling", fct_model_fanout),
    ("modeling", fct_multiple_sources_joined),
    ("modeling", fct_rejoining_of_upstream_concepts),
    ("modeling", fct_root_models),
    ("modeling", fct_source_fanout),
    ("modeling", fct_staging_dependent_on_marts_or_intermediate),
    ("modeling", fct_staging_dependent_on_staging),
    ("modeling", fct_unused_sources),
    ("modeling", fct_hard_coded_references),
    ("testing", fct_missing_primary_key_tests),
    ("testing", fct_test_coverage),
    ("documentation", fct_undocumented_models),
    ("documentation", fct_documentation_coverage),
    ("documentation", fct_undocumented_sources),
    ("documentation", fct_undocumented_source_tables),
    ("structure", fct_model_naming_conventions),
    ("structure", fct_model_directories),
    ("structure", fct_source_directories),
    ("structure", fct_test_directories),
    ("performance", fct_chained_views_dependencies),
    ("performance", fct_exposure_parents_materializations),
    ("governance", fct_public_models_without_contract),
    ("governance", fct_undocumented_public_models),
    ("governance", fct_exposures_dependent_on_private_models),
]
RULE_NAMES = {f.__name__ for _, f in RULES}
NOT_EXCEPTABLE = {"fct_test_coverage", "fct_documentation_coverage"}


# ---------------------------------------------------------------- exceptions and the run


def like(value: str, pattern: str) -> bool:
    """SQL LIKE (case-sensitive): % any run, _ one character."""
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, value, re.DOTALL) is not None


def read_exceptions(path: Path) -> list[dict]:
    """The seed's rows; raises AimetricsError naming the file, line and column."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != SEED_COLUMNS:
            raise AimetricsError(f"{path}: header must be {','.join(SEED_COLUMNS)}, got {reader.fieldnames}")
        rows = []
        for line, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if row["fct_name"] not in RULE_NAMES:
                raise AimetricsError(f"{path}:{line}: fct_name {row['fct_name']!r} is not a rule of aimetrics evaluate")
            if row["fct_name"] in NOT_EXCEPTABLE:
                raise AimetricsError(f"{path}:{line}: {row['fct_name']} cannot be excepted; set its target var")
            if not row["column_name"] or not row["id_to_exclude"]:
                raise AimetricsError(f"{path}:{line}: column_name and id_to_exclude are required")
            rows.append({**row, "line": line})
        return rows


def project_config(project_dir: Path) -> dict:
    """DEFAULTS, overridden by ``vars: dbt_project_evaluator:`` in dbt_project.yml."""
    project_yml = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    overrides = (project_yml.get("vars") or {}).get("dbt_project_evaluator") or {}
    return {**DEFAULTS, **overrides}


def evaluate(manifest: dict, config: dict, exceptions: list[dict]) -> dict:
    """Every rule's findings, split into excepted (with the seed row) and open;
    problems of the seed itself (no comment, wrong column, matches nothing)."""
    project = Project(manifest, config)
    results, used = {}, set()
    for category, rule in RULES:
        name = rule.__name__
        mine = [e for e in exceptions if e["fct_name"] == name]
        open_rows, excepted = [], []
        for row in rule(project):
            hit = next((e for e in mine if e["column_name"] in row
                        and like(str(row[e["column_name"]]), e["id_to_exclude"])), None)
            if hit is None:
                open_rows.append(row)
            else:
                excepted.append((row, hit))
                used.add(hit["line"])
        results[name] = {"category": category, "open": open_rows, "excepted": excepted}
    problems = []
    for e in exceptions:
        where = f"line {e['line']} ({e['fct_name']}, {e['column_name']} like {e['id_to_exclude']!r})"
        if not e["comment"]:
            problems.append(f"{where}: no comment saying why the exception is legitimate")
        if e["line"] not in used:
            problems.append(f"{where}: matches no finding; remove it")
    return {"results": results, "seed_problems": problems}


def parse_manifest(project_dir: Path = PROJECT_DIR) -> dict:
    """``dbt parse`` into a temporary target folder; the manifest it writes."""
    from aimetrics.dbt_runner import run_dbt

    with tempfile.TemporaryDirectory(prefix="aimetrics-evaluate-") as tmp:
        run_dbt(["parse"], target_path=tmp)
        return json.loads((Path(tmp) / "manifest.json").read_text())


def report(outcome: dict, verbose: bool = False) -> tuple[str, int]:
    lines, n_open, n_excepted = [], 0, 0
    for name, r in outcome["results"].items():
        n_open += len(r["open"])
        n_excepted += len(r["excepted"])
        status = "FAIL" if r["open"] else "pass"
        lines.append(f"{status}  {r['category']:<13} {name}: {len(r['open'])} open, {len(r['excepted'])} excepted")
        for row in r["open"]:
            lines.append("        " + json.dumps(row, default=str))
        if verbose:
            for row, e in r["excepted"]:
                lines.append(f"        excepted ({e['column_name']} like {e['id_to_exclude']!r}: {e['comment']}): "
                             + json.dumps(row, default=str))
    for problem in outcome["seed_problems"]:
        lines.append(f"FAIL  exceptions seed {problem}")
    failed = bool(n_open or outcome["seed_problems"])
    lines.append(f"aimetrics evaluate: {len(outcome['results'])} rules, {n_open} open findings, "
                 f"{n_excepted} excepted, {len(outcome['seed_problems'])} seed problems: "
                 + ("FAILED" if failed else "passed"))
    return "\n".join(lines), int(failed)


def main(manifest_path: Path | None = None, project_dir: Path = PROJECT_DIR, verbose: bool = False) -> int:
    if manifest_path is None:
        manifest = parse_manifest(project_dir)
    else:
        try:
            manifest = json.loads(Path(manifest_path).read_text())
        except (OSError, ValueError) as exc:
            raise AimetricsError(f"cannot read manifest {manifest_path}: {exc}") from exc
    outcome = evaluate(manifest, project_config(project_dir), read_exceptions(project_dir / EXCEPTIONS_SEED))
    text, code = report(outcome, verbose)
    print(text)
    return code
