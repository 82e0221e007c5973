"""aimetrics: a warehouse-native metrics layer for AI products.

The metrics themselves live in the dbt project next to this package
(models/, macros/, seeds/); this package loads raw data, generates the demo,
runs dbt and prints the scorecard.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the dbt project (the repository root, where dbt_project.yml lives).
PROJECT_DIR = Path(__file__).resolve().parent.parent
