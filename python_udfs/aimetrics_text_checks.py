"""Tier-1 automated checks on texts that SQL cannot express, as plain Python functions.

Registered in DuckDB by ``aimetrics_udfs.Plugin`` (dbt-duckdb's plugin mechanism); usable and tested
on their own. Every function takes and returns plain Python values and is null-safe: a null
(``None``) argument gives ``None`` (DuckDB does not even call them with a null, by default).

* :func:`text_edit_distance` - Levenshtein distance (insertions, deletions, substitutions of single
  characters) between the output text and the text finally used, by rapidfuzz's bit-parallel
  algorithm (Myers 1999 / Hyyrö 2003) in C++.
* :func:`normalized_edit_ratio` - that distance / the length of the output text: the same edit ratio
  as ``edit_distance / output_chars`` of the raw contract's ``output_edited`` events (so it is
  compared with ``var('substantive_edit_ratio')`` the same way); ``None`` for an empty output.
* :func:`unsupported_facts` - the numbers, dates and capitalised names of an output that its source
  text does not contain (a fact-consistency check for summaries and grounded answers).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from rapidfuzz.distance import Levenshtein


def text_edit_distance(a: str | None, b: str | None) -> int | None:
    """Levenshtein distance between two texts (unit costs, over Unicode code points); None when
    either is None. Computed by rapidfuzz (C++, bit-parallel): about 100 times faster than the
    same algorithm in Python, which made this check the slowest step of a build."""
    if a is None or b is None:
        return None
    return Levenshtein.distance(a, b)


def normalized_edit_ratio(output_text: str | None, final_text: str | None) -> float | None:
    """Edit distance from the output to the text finally used / the output's length.

    0.0 when the text was used as is; may exceed 1 when the final text is much longer. None when
    either text is None or the output is empty (the ratio is undefined)."""
    if output_text is None or final_text is None or len(output_text) == 0:
        return None
    return text_edit_distance(output_text, final_text) / len(output_text)


# ---------------------------------------------------------------------------
# fact consistency

_MONTHS = {name: i + 1 for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"))}
_MONTHS.update({name[:3]: num for name, num in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?" \
            r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE_PATTERNS = (
    # 2024-03-05
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    # March 5, 2024 / Mar. 5th 2024
    (re.compile(_MONTH_RE + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE), ("mon", "d", "y")),
    # 5 March 2024 / 5th of March, 2024
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r"\.?,?\s+(\d{4})\b", re.IGNORECASE),
     ("d", "mon", "y")),
)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?%?")
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:[ \t]+(?:of[ \t]+|de[ \t]+|van[ \t]+|von[ \t]+)?[A-Z][\w'’-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]\s*|[\"“(]\s*)$")


def _dates(text: str) -> tuple[set[str], list[tuple[int, int]]]:
    found, spans = set(), []
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups()))
            month = int(parts["m"]) if "m" in parts else _MONTHS.get(parts["mon"].lower().rstrip("."))
            try:
                year, day = int(parts["y"]), int(parts["d"])
            except ValueError:
                continue
            if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            found.add(f"{year:04d}-{month:02d}-{day:02d}")
            spans.append(match.span())
    return found, spans


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


def _numbers(text: str) -> set[str]:
    out = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0)
        pct = token.endswith("%")
        digits = token.rstrip("%").replace(",", "").lstrip("+")
        try:
            value = Decimal(digits).normalize()
        except InvalidOperation:
            continue
        text_value = format(value, "f")
        out.add(text_value + ("%" if pct else ""))
    return out


#: capitalised only because they open a sentence
_SENTENCE_OPENERS = frozenset("""
a according after also an and as at before but by during for from he her here his however i if in
it its no on or our she since so that the their then there these they this those to we when while
with yes you your
""".split())


def _names(text: str) -> set[str]:
    """Capitalised word sequences; at a sentence start a single word is not a name, and a leading
    sentence opener (The, In, According, ...) is dropped."""
    out = set()
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        if _SENTENCE_START.search(text[: match.start()]):
            if len(words) == 1 or words[0].lower() in _SENTENCE_OPENERS:
                words = words[1:]
            while words and words[0].lower() in ("of", "de", "van", "von"):
                words = words[1:]
        if words:
            out.add(" ".join(words))
    return out


def unsupported_facts(output_text: str | None, source_text: str | None) -> list[str] | None:
    """Numbers, dates and capitalised names of the output that the source does not contain.

    Items are ``date:YYYY-MM-DD``, ``number:<normalised value>`` (thousands separators dropped,
    trailing zeros of decimals dropped, ``%`` kept) and ``name:<words>``, sorted. A date matches
    the same day written in any supported format (ISO, "March 5, 2024", "5 March 2024"); a number
    matches the same value anywhere in the source (inside a date too); a name matches its words
    in sequence, ignoring case. The first word of a sentence is not taken as a name on its own.
    Empty list: nothing unsupported. None when either text is None.
    """
    if output_text is None or source_text is None:
        return None
    out_dates, out_spans = _dates(output_text)
    src_dates, _ = _dates(source_text)
    out_rest = _blank_spans(output_text, out_spans)
    src_numbers = _numbers(source_text)
    src_lower = " ".join(source_text.lower().split())
    missing = [f"date:{d}" for d in out_dates if d not in src_dates]
    missing += [f"number:{n}" for n in _numbers(out_rest) if n not in src_numbers]
    for name in _names(out_rest):
        if not re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", src_lower):
            missing.append(f"name:{name}")
    return sorted(set(missing))
