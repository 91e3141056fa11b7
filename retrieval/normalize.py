"""German text normalisation for lexical retrieval. Pure functions, no I/O.

Pipeline for each word (``analyze``):

1. tokenise on letters/digits; hyphenated compounds give their parts and the joined word
   ("Gewerbe-Anmeldung" -> gewerbe, anmeldung, gewerbeanmeldung);
2. drop stop words (function words and the filler words of questions: "ich", "möchte", "wie");
3. lemmatise with the spaCy lookup table (``Lexicon.lemmas``; keys are folded lower-case forms,
   so lower-case voice transcripts lemmatise like typed text);
4. fold: lower case, ß -> ss, umlauts and their transliterations -> base vowel
   ("Führerschein", "Fuehrerschein", "fuhrerschein" are one word);
5. stem lightly (CISTEM-style suffix stripping), so plurals and inflections the table lacks
   ("Reisepässe") still meet their base form;
6. split compounds into words of a known vocabulary (built from the catalogue), keeping the
   whole word too: "Anwohnerparkausweis" -> anwohnerparkausweis, anwohner, parkausweis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "STOPWORDS",
    "Lexicon",
    "analyze",
    "build_deletes",
    "build_vocabulary",
    "content_words",
    "correct",
    "fold",
    "split_compound",
    "stem",
    "strip_stopwords",
    "tokenize",
    "word_terms",
]

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)

# Function words plus the words every citizen question carries. Folded spelling.
STOPWORDS: frozenset[str] = frozenset(
    ["a", "ab", "aber", "alle", "allem", "allen", "aller", "alles", "als", "also", "am", "an", "ander", "andere", "anderen", "auch", "auf", "aus", "bei", "beim", "bin", "bis", "bitte", "bist", "bzw", "da", "dabei", "dadurch", "dafur", "dagegen", "daher", "dahin", "damit", "dann", "daran", "darauf", "daraus", "darf", "darfst", "darin", "darum", "darunter", "das", "dass", "dazu", "dein", "deine", "deinem", "deinen", "deiner", "dem", "den", "denen", "denn", "der", "deren", "des", "dessen", "dich", "die", "dies", "diese", "diesem", "diesen", "dieser", "dieses", "dir", "doch", "dort", "du", "durch", "eben", "ein", "eine", "einem", "einen", "einer", "eines", "einfach", "einmal", "er", "es", "etwa", "etwas", "euch", "euer", "eure", "fur", "gab", "gibt", "gilt", "gern", "gerne", "geht", "gehen", "hab", "habe", "haben", "hallo", "hast", "hat", "hatte", "hatten", "hier", "hin", "hinter", "ich", "ihm", "ihn", "ihnen", "ihr", "ihre", "ihrem", "ihren", "ihrer", "ihres", "im", "immer", "in", "ins", "ist", "ja", "je", "jede", "jedem", "jeden", "jeder", "jedes", "jemand", "jetzt", "kann", "kannst", "kein", "keine", "keinem", "keinen", "keiner", "konnen", "konnte", "konnten", "konnt", "kriege", "kriegt", "mach", "mache", "machen", "macht", "man", "manche", "mehr", "mein", "meine", "meinem", "meinen", "meiner", "meines", "mich", "mir", "mit", "moechte", "mochte", "mochten", "muss", "mussen", "musst", "nach", "nachdem", "neben", "nein", "nicht", "nichts", "noch", "nun", "nur", "ob", "oder", "ohne", "sehr", "sein", "seine", "seinem", "seinen", "seiner", "seit", "sich", "sie", "sind", "so", "soll", "sollen", "sollte", "sondern", "sonst", "uber", "um", "und", "uns", "unser", "unsere", "unserem", "unseren", "unter", "viel", "vom", "von", "vor", "wann", "war", "waren", "warum", "was", "weil", "welche", "welchem", "welchen", "welcher", "welches", "wem", "wen", "wenn", "wer", "werde", "werden", "wie", "wieder", "will", "wir", "wird", "wirst", "wo", "woher", "wohin", "wollen", "wollte", "wurde", "wurden", "zu", "zum", "zur", "zwar", "zwischen", "danke", "guten", "tag", "morgen", "abend", "frage", "fragen", "info", "infos", "information", "informationen", "hilfe", "helfen", "brauch", "brauche", "brauchen", "braucht", "benotige", "benotigen", "tun", "muss", "bekomme", "bekommen", "bekommt", "erhalte", "erhalten", "krieg", "kriegen", "genau", "eigentlich", "mal", "schon", "bereits", "leider", "gerade", "bitte", "ok", "okay", "ahm", "ahem", "hm", "hmm", "ah", "eh", "oh", "naja", "halt", "irgendwie", "sowas", "wollt", "the", "a", "an", "of", "to", "for", "in", "on", "is", "are", "do", "does", "how", "what", "where", "when", "which", "can", "i", "my", "me", "we", "you", "your", "please", "need", "want", "get", "with", "about"]
)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word knowledge used by :func:`analyze`.

    ``lemmas`` maps folded lower-case word forms to folded lemmas (from spaCy's German lookup
    table); ``vocabulary`` holds folded words that compounds may be split into (built from the
    catalogue, see :func:`build_vocabulary`).
    """

    lemmas: Mapping[str, str] = field(default_factory=dict)
    vocabulary: frozenset[str] = frozenset()
    min_part: int = 4
    # Single-deletion variants of vocabulary words -> the word (see :func:`build_deletes`),
    # used to correct one-letter typos of words the catalogue knows ("reispass").
    deletes: Mapping[str, str] = field(default_factory=dict)
    # Words that say nothing in this catalogue (the city's own name), folded.
    stopwords: frozenset[str] = frozenset()
    # Folded lemmas of the lemma table: real words, never "corrected" into a catalogue word
    # ("winter" is not a typo of "wiener", nor "student" of "stunden").
    lemma_words: frozenset[str] = frozenset()


# -- folding and stemming --------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "s", "ẞ": "s"})
# Transliterated umlauts ("Fuehrerschein"); "eue"/"aue"/"que" (neue, Bauer, Quelle) are kept.
_TRANSLIT = re.compile(r"(?<![eaq])([aou])e")


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower case, ß -> ss, umlauts (also written ae/oe/ue) -> base vowel, accents removed."""
    text = word.lower().replace("ß", "ss").translate(_UMLAUTS)
    text = _TRANSLIT.sub(r"\1", text)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text


_DOUBLE = re.compile(r"(.)\1")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light German suffix stripping after CISTEM (Weissweiler & Fraser, 2017), on folded words.

    A noun's "-ung" goes first (Anmeldung ~ anmelden); then inflectional endings
    (-e, -s, -n, -t, -em, -er, -nd) are removed repeatedly while the word
    keeps more than three letters; "sch", "ei", "ie" and double letters are protected as in
    CISTEM, so "parkausweise" -> "parkausweis", "reisepasse" -> "reisepass",
    "gebuhren" -> "gebuhr".
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if len(word) > 6 and word.endswith("ung"):
        word = word[:-3]  # Anmeldung ~ anmelden, Zulassung ~ zulassen
    out = word.replace("sch", "$").replace("ei", "%").replace("ie", "&")
    out = _DOUBLE.sub(r"\1*", out)
    while len(out) > 3:
        if len(out) > 5 and out[-2:] in ("em", "er", "nd"):
            out = out[:-2]
        elif out[-1] in "tesn":
            out = out[:-1]
        else:
            break
    out = out.replace("$", "sch").replace("%", "ei").replace("&", "ie")
    return re.sub(r"(.)\*", r"\1\1", out)


# -- tokens ----------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Words of ``text`` in original spelling; hyphenated words give parts and the joined form."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if "-" in word:
            parts = [p for p in word.split("-") if p]
            out.extend(parts)
            if len(parts) > 1 and all(p.isalpha() for p in parts):
                out.append("".join(parts))
        else:
            out.append(word)
    return out


def lemma(word: str, lemmas: Mapping[str, str]) -> str:
    """Folded lemma of a word (the folded word itself when the table does not know it)."""
    folded = fold(word)
    return lemmas.get(folded, folded)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def correct(folded: str, lexicon: Lexicon) -> str:
    """A vocabulary word within one edit of an unknown folded word, else the word itself.

    Words the lemma table (forms or lemmas) or the vocabulary know are never changed; short words (< 6 letters)
    neither, since one edit turns them into too many other words.
    """
    if (
        len(folded) < 6
        or folded in lexicon.vocabulary
        or folded in lexicon.lemmas
        or folded in lexicon.lemma_words
        or not folded.isalpha()
        or not lexicon.deletes
    ):
        return folded
    hit = lexicon.deletes.get(folded)  # a letter is missing ("reispass")
    if hit is not None:
        return hit
    for variant in sorted(_deletions(folded)):
        if variant in lexicon.vocabulary:  # a letter too many
            return variant
        hit = lexicon.deletes.get(variant)  # a wrong letter
        if hit is not None:
            return hit
    return folded


def build_deletes(vocabulary: Iterable[str]) -> dict[str, str]:
    """Single-deletion variant -> vocabulary word, for :func:`correct` (first word wins)."""
    out: dict[str, str] = {}
    for word in sorted(vocabulary):
        if len(word) < 6:
            continue
        for variant in _deletions(word):
            if variant not in out:
                out[variant] = word
    return out


def split_compound(word: str, vocabulary: frozenset[str], min_part: int = 4) -> tuple[str, ...]:
    """Split a folded word into known vocabulary words, fewest parts first.

    Linking elements (Fugen-s, -es, -n, -en, -e) may follow a part. Returns ``()`` when the word
    cannot be covered by at least two known parts.
    """
    n = len(word)
    if n < 2 * min_part or not vocabulary:
        return ()
    # best[i]: fewest parts covering word[i:], as a tuple of parts, or None
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - min_part, -1, -1):
        candidate: tuple[str, ...] | None = None
        for j in range(n, i + min_part - 1, -1):
            part = word[i:j]
            if part not in vocabulary:
                continue
            for link in ("", "s", "es", "n", "en", "e"):
                k = j + len(link)
                if k > n or word[j:k] != link:
                    continue
                rest = best[k]
                if rest is None:
                    continue
                option = (part, *rest)
                if candidate is None or len(option) < len(candidate):
                    candidate = option
            if candidate is not None and len(candidate) <= 2:
                break
        best[i] = candidate
    parts = best[0]
    if parts is None or len(parts) < 2:
        return ()
    return parts


def _base(token: str, lexicon: Lexicon) -> str:
    folded = correct(fold(token), lexicon)
    return lexicon.lemmas.get(folded, folded)


def _expand(token: str, lexicon: Lexicon) -> tuple[str, tuple[str, ...]] | None:
    base = _base(token, lexicon)
    if not base or base in STOPWORDS or base in lexicon.stopwords:
        return None
    whole = stem(base)
    parts: list[str] = []
    for part in split_compound(base, lexicon.vocabulary, lexicon.min_part):
        term = stem(lexicon.lemmas.get(part, part))
        if term not in STOPWORDS and term != whole:
            parts.append(term)
    return whole, tuple(parts)


def word_terms(text: str, lexicon: Lexicon) -> list[tuple[str, tuple[str, ...]]]:
    """Per content word of ``text``: its index term and the terms of its compound parts."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for token in tokenize(text):
        folded = fold(token)
        if folded in STOPWORDS or folded in lexicon.stopwords:
            continue
        expanded = _expand(token, lexicon)
        if expanded is not None:
            out.append(expanded)
    return out


def analyze(text: str, lexicon: Lexicon) -> list[str]:
    """Index terms of ``text``: content words, lemmatised, folded, stemmed, compounds split."""
    out: list[str] = []
    for whole, parts in word_terms(text, lexicon):
        out.append(whole)
        out.extend(parts)
    return out


def content_words(text: str, lexicon: Lexicon) -> list[str]:
    """The content words' index terms, one per word (no compound parts), in order."""
    return [whole for whole, _ in word_terms(text, lexicon)]


def strip_stopwords(text: str) -> str:
    """``text`` without its stop and filler words, other words in their original spelling.

    "ähm ich wollt fragen was ich für den perso brauche" -> "perso". What the dense side embeds
    besides the query itself: the fillers of spoken and chatty questions pull the sentence
    embedding away from the service. A text of stop words only comes back unchanged.
    """
    words = [w for w in _WORD.findall(text) if fold(w) not in STOPWORDS]
    return " ".join(words) if words else text


def build_vocabulary(texts: Iterable[str], lemmas: Mapping[str, str], min_part: int = 4) -> frozenset[str]:
    """Folded words and lemmas of ``texts`` that compounds may be split into."""
    vocab: set[str] = set()
    for text in texts:
        for token in tokenize(text):
            folded = fold(token)
            if len(folded) < min_part or not folded.isalpha() or folded in STOPWORDS:
                continue
            vocab.add(folded)
            base = lemmas.get(folded)
            if base and len(base) >= min_part:
                vocab.add(base)
    return frozenset(vocab)
