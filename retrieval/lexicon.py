"""Loading the German lemma table (I/O); the functions using it are in :mod:`retrieval.normalize`.

The table is spaCy's German lookup lemmatizer table from the ``spacy-lookups-data`` package (the
data behind ``spacy.blank("de")`` + ``add_pipe("lemmatizer", config={"mode": "lookup"})``). It is
read directly from the package: the same data without importing spaCy (which pulls in
TensorFlow here and takes seconds).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from retrieval.normalize import Lexicon, build_deletes, build_vocabulary, fold

__all__ = ["catalogue_lexicon", "lemma_words", "load_lemmas"]


@lru_cache(maxsize=1)
def load_lemmas() -> Mapping[str, str]:
    """Folded word form -> folded lemma. Capitalised (noun) entries win over lower-case ones."""
    import spacy_lookups_data

    path = spacy_lookups_data.get_file("de_lemma_lookup.json.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as fh:
        raw: dict[str, str] = json.load(fh)
    table: dict[str, str] = {}
    for form, lemma in raw.items():
        key = fold(form)
        if key not in table or form[:1].isupper():
            table[key] = fold(lemma)
    return MappingProxyType(table)


@lru_cache(maxsize=1)
def lemma_words() -> frozenset[str]:
    """The lemmas of :func:`load_lemmas` (folded): the words the table knows as base forms."""
    return frozenset(load_lemmas().values())


def catalogue_lexicon(texts: Iterable[str], city: str = "") -> Lexicon:
    """A lexicon whose compound vocabulary is the catalogue's own words.

    The city's name ("München", also inflected "Münchner") carries no information in its own
    catalogue and becomes a stop word.
    """
    lemmas = load_lemmas()
    vocabulary = build_vocabulary(texts, lemmas)
    city_words = {fold(w) for w in city.replace("-", " ").split() if len(w) > 2}
    stop = set(city_words)
    for word in city_words:
        stop.update({word + "s", word + "er", word + "ern", word + "ers", word + "erin"})
        if word.endswith("en"):  # Munchen -> Munchner, Munchens
            stop.update({word[:-2] + "ner", word[:-2] + "nern", word[:-2] + "nerin"})
    return Lexicon(lemmas=lemmas, vocabulary=vocabulary, deletes=build_deletes(vocabulary),
                   stopwords=frozenset(stop), lemma_words=lemma_words())
