"""Words, as the Events API's keyword parameters match them (product.md, Decisions 3).

A word is a maximal run of letters and digits: Unicode general categories L* and Nd, the
characters ICU calls alphanumeric. Everything else separates words. Matching is on lower-cased
text. The SQL function ``event_words`` (migrations/0002) splits stored values the same way;
a test holds the two definitions together.
"""

from __future__ import annotations

import unicodedata


def _is_word_char(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum()
    category = unicodedata.category(ch)
    return category[0] == "L" or category == "Nd"


def words(text: str) -> tuple[str, ...]:
    """The words of ``text``, lower-cased, in order, repeats kept."""
    found: list[str] = []
    current: list[str] = []
    for ch in text.lower():
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return tuple(found)
