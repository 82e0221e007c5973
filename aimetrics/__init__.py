"""aimetrics: a warehouse-native metrics layer for AI products.

The metrics themselves live in the dbt project next to this package
(models/, macros/, seeds/); this package loads raw data, generates the demo,
runs dbt and prints the scorecard.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the dbt project (the repository root, where dbt_project.yml lives).
PROJECT_DIR = Path(__file__).resolve().parent.parent

# Great Expectations imports pyspark when it is installed (the `spark` extra),
# and pyspark 4.3 warns on import that it does not yet fully support pandas 3.
# aimetrics never hands pandas frames to Spark, so that one warning is noise
# on every command's stderr; it is silenced by its exact message only.
import warnings as _warnings

_warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
