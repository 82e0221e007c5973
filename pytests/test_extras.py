"""The core package works without any optional extra (pyproject.toml [project.optional-dependencies]).

A child interpreter refuses to import the extras' top-level modules (as if they
were not installed) and runs ``aimetrics --help`` and every subcommand's
``--help``: the CLI must import them lazily, only in the command that needs them.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

from aimetrics import PROJECT_DIR

#: the modules each extra brings; a new extra adds its modules here
EXTRA_MODULES = {
    "otel": ["opentelemetry"],
    "dagster": ["dagster", "dagster_dbt"],
    "semantic": ["metricflow", "dbt_metricflow"],
    "report": ["matplotlib", "PIL"],
    "spark": ["pyspark", "dbt.adapters.spark"],
}

_CHILD = r"""
import sys
blocked = sys.argv[1].split(",")

class Block:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: an optional extra)", name=name)
        return None

sys.meta_path.insert(0, Block())
from aimetrics.cli import build_parser, main

commands = sorted(build_parser()._subparsers._group_actions[0].choices)
for argv in [["--help"], *[[c, "--help"] for c in commands]]:
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code == 0, (argv, exc.code)
print("commands:", ",".join(commands))
"""


def test_every_extra_is_listed_here():
    extras = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras) - {"test"} <= set(EXTRA_MODULES), "add the new extra's modules to EXTRA_MODULES"


def test_cli_help_runs_without_any_extra():
    blocked = ",".join(m for mods in EXTRA_MODULES.values() for m in mods)
    result = subprocess.run([sys.executable, "-c", _CHILD, blocked], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    commands = result.stdout.strip().splitlines()[-1].removeprefix("commands: ").split(",")
    assert {"load", "demo", "build", "check", "run"} <= set(commands)
    assert "usage: aimetrics" in result.stdout
