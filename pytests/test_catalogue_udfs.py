"""The Tier-1 text checks of python_udfs/: hand-made cases, and their registration in DuckDB.

The functions are plain Python (``aimetrics_text_checks``); ``aimetrics_udfs`` registers them on a
DuckDB connection, as dbt-duckdb's plugin does for every dbt connection (profiles.yml). Their use by
the models (automated reviews, edit sizes) is covered by the demo build of test_catalogue_demo.py,
whose demo data carry the optional text columns.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python_udfs"))

from aimetrics_text_checks import normalized_edit_ratio, text_edit_distance, unsupported_facts  # noqa: E402
from aimetrics_udfs import Plugin, register  # noqa: E402


def _levenshtein_dp(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize("a,b,expected", [
    ("", "", 0),
    ("abc", "", 3),
    ("", "abc", 3),
    ("kitten", "sitting", 3),
    ("flaw", "lawn", 2),
    ("same text", "same text", 0),
    ("Grüße", "Grüsse", 2),           # code points, not bytes
    ("a" * 100, "a" * 99 + "b", 1),   # longer than a machine word
    ("\U0001F600ab", "ab", 1),         # a code point outside the BMP is one character
])
def test_edit_distance_known_cases(a, b, expected):
    assert text_edit_distance(a, b) == expected
    assert text_edit_distance(b, a) == expected


def test_edit_distance_agrees_with_dynamic_programming():
    rng = random.Random(7)
    for _ in range(2000):
        a = "".join(rng.choice("ab c\n") for _ in range(rng.randint(0, 90)))
        b = "".join(rng.choice("ab c\n") for _ in range(rng.randint(0, 90)))
        assert text_edit_distance(a, b) == _levenshtein_dp(a, b), (a, b)


def test_edit_ratio():
    assert normalized_edit_ratio("abcdefghij", "abcdefghij") == 0.0
    assert normalized_edit_ratio("abcdefghij", "abcdefghiX") == 0.1   # exactly the substantive bound
    assert normalized_edit_ratio("abcd", "abcdefgh") == 1.0
    assert normalized_edit_ratio("ab", "xyzxyz") == 3.0              # may exceed 1
    assert normalized_edit_ratio("", "abc") is None                  # undefined for an empty output
    assert normalized_edit_ratio(None, "abc") is None
    assert normalized_edit_ratio("abc", None) is None


@pytest.mark.parametrize("output,source,expected", [
    # everything supported, in other formats: dates, thousands separators, trailing zeros, case
    ("Revenue rose 12.5% to 1,200 units on March 5, 2024, said Jane Doe.",
     "On 2024-03-05 jane doe said revenue was up 12.50% at 1200 units.", []),
    ("The meeting is on 5 March 2024.", "Meeting: March 5th, 2024.", []),
    # a number, a date and a name absent from the source
    ("Sales hit 4,500 on 2024-01-02 according to John Smith.",
     "Sales hit 4,200 on 2024-01-03 according to Jane Smith.",
     ["date:2024-01-02", "name:John Smith", "number:4500"]),
    # a number inside a source date still supports the number
    ("It happened in 2024.", "It happened on 2024-05-01.", []),
    # a sentence opener is not a name; a multi-word name at a sentence start is
    ("The report is late. Marie Curie wrote it.", "marie curie wrote a report", []),
    ("Marie Curie wrote it.", "Pierre Curie wrote it.", ["name:Marie Curie"]),
    ("According to Ada Lovelace, it works.", "Ada Lovelace said it works.", []),
    # percentages are not plain numbers
    ("Growth was 5%.", "Growth was 5 points.", ["number:5%"]),
    ("", "anything", []),
])
def test_unsupported_facts(output, source, expected):
    assert unsupported_facts(output, source) == expected


def test_unsupported_facts_null_inputs():
    assert unsupported_facts(None, "x") is None
    assert unsupported_facts("x", None) is None


def test_functions_registered_in_duckdb():
    con = duckdb.connect()
    Plugin(name="aimetrics_udfs", plugin_config={}).configure_connection(con)
    register(con)  # idempotent: registering twice replaces the functions
    row = con.execute("""
        select aimetrics_edit_distance('kitten', 'sitting'), aimetrics_edit_ratio('abcdefghij', 'abcdefghiX'),
               aimetrics_unsupported_facts('Paid 300 to Alan Turing.', 'paid 300 to alan turing'),
               len(aimetrics_unsupported_facts('Paid 301 to Alan Turing.', 'paid 300 to alan turing')),
               aimetrics_edit_distance(null, 'x'), aimetrics_edit_ratio('', 'x'),
               aimetrics_unsupported_facts('x', null)""").fetchone()
    assert row == (3, 0.1, [], 1, None, None, None)
    types = [d[1] for d in con.execute("""select aimetrics_edit_distance('a', 'b') as d,
        aimetrics_edit_ratio('a', 'b') as r, aimetrics_unsupported_facts('a', 'b') as f""").description]
    assert [str(t) for t in types] == ["BIGINT", "DOUBLE", "VARCHAR[]"]
    con.close()


def test_profile_registers_the_plugin():
    profile = (Path(__file__).resolve().parent.parent / "profiles.yml").read_text()
    assert "- module: aimetrics_udfs" in profile and "python_udfs" in profile
