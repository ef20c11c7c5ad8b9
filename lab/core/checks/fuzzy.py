"""The fuzzy check: a reference answer compared with the output after normalising both.

Normalising lower-cases the text, removes punctuation and the articles "a", "an" and "the", and
collapses whitespace (the usual question-answering normalisation). Without `min_similarity` the
check passes when either normalised text contains the other (an empty text only matches an empty
one); with it, when the similarity ratio of the two normalised texts (difflib's, 0 to 1) reaches
`min_similarity`. With several values, one match is enough.
"""

from __future__ import annotations

import difflib
import re
import string

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalise(text: str) -> str:
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contained_either_way(output: str, reference: str) -> bool:
    a, b = normalise(output), normalise(reference)
    if not a or not b:
        return a == b
    return a in b or b in a


def similarity(output: str, reference: str) -> float:
    a, b = normalise(output), normalise(reference)
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
