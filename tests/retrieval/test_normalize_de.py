"""German normalisation: folding, stemming, compounds, typos, stop words (pure functions)."""

from __future__ import annotations

from retrieval.lexicon import catalogue_lexicon, load_lemmas
from retrieval.normalize import (
    Lexicon,
    analyze,
    build_deletes,
    content_words,
    correct,
    fold,
    split_compound,
    stem,
    strip_stopwords,
    tokenize,
)


def test_fold_case_sharp_s_umlauts_and_transliterations() -> None:
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("Führerschein") == fold("Fuehrerschein") == fold("fuhrerschein")
    assert fold("Gebühr") == fold("Gebuehr")
    assert fold("neue") == "neue"  # "eue" is not a transliterated umlaut
    assert fold("Café") == "cafe"


def test_stem_strips_inflection_not_stems() -> None:
    assert stem("parkausweise") == stem("parkausweis")
    assert stem("gebuhren") == stem("gebuhr")
    assert stem("reisepasse") == stem("reisepass")
    assert stem("anmeldung") == stem("anmelden")
    assert stem("kfz") == "kfz"


def test_tokenize_hyphenated_compounds_give_parts_and_whole() -> None:
    assert tokenize("Gewerbe-Anmeldung, 2025!") == ["Gewerbe", "Anmeldung", "GewerbeAnmeldung",
                                                    "2025"]


def test_split_compound_into_known_words_with_linking_s() -> None:
    vocab = frozenset({"personalausweis", "antrag", "anwohner", "parkausweis", "park", "ausweis"})
    assert split_compound("personalausweisantrag", vocab) == ("personalausweis", "antrag")
    assert split_compound("anwohnerparkausweis", vocab) == ("anwohner", "parkausweis")
    assert split_compound("arbeitsvertrag", frozenset({"arbeit", "vertrag"})) == (
        "arbeit", "vertrag")
    assert split_compound("hund", vocab) == ()
    assert split_compound("unbekanntwort", vocab) == ()


def test_typo_correction_only_for_unknown_long_words() -> None:
    vocab = frozenset({"reisepass", "anmeldung", "fuhrerschein"})
    lex = Lexicon(lemmas={}, vocabulary=vocab, deletes=build_deletes(vocab))
    assert correct("reispass", lex) == "reisepass"  # missing letter
    assert correct("anmeldng", lex) == "anmeldung"
    assert correct("fuhrerrschein", lex) == "fuhrerschein"  # extra letter
    assert correct("reisepaxs", lex) == "reisepass"  # wrong letter
    assert correct("hund", lex) == "hund"


def test_real_words_are_not_corrected_into_catalogue_words() -> None:
    # "winter" is one letter from the catalogue's "wiener" but a word of its own: the lemma
    # table knows it as a lemma (not as an inflected form), which is enough
    vocab = frozenset({"wiener", "stunden"})
    lex = catalogue_lexicon(["Wiener Stunden"])
    assert "winter" not in lex.lemmas or lex.lemmas["winter"] == "winter"
    assert correct("winter", lex) == "winter"
    assert correct("student", lex) == "student"
    bare = Lexicon(lemmas={}, vocabulary=vocab, deletes=build_deletes(vocab))
    assert correct("winter", bare) == "wiener"  # without the lemma table it would be


def test_analyze_lemmatises_drops_stopwords_and_splits() -> None:
    lex = catalogue_lexicon(["Bewohnerparkausweis", "Parkausweis", "Anwohner", "Antrag"],
                            city="München")
    terms = analyze("Ich möchte einen Anwohnerparkausweis in München beantragen", lex)
    assert stem("anwohner") in terms and stem("parkausweis") in terms
    assert "ich" not in terms and "mochte" not in terms
    assert all("munch" not in t for t in terms)
    assert analyze("Reisepässe", lex) == analyze("reisepass", lex)
    assert content_words("ähm wie beantrage ich das", lex) == [stem("beantragen")]


def test_voice_lowercase_equals_typed_text() -> None:
    lex = catalogue_lexicon(["Führerschein", "Unterlagen"])
    assert analyze("welche unterlagen brauche ich für den führerschein", lex) == analyze(
        "Welche Unterlagen brauche ich für den Führerschein?", lex)


def test_lemma_table_is_spacy_lookup_data() -> None:
    lemmas = load_lemmas()
    assert len(lemmas) > 100_000
    assert lemmas[fold("beantragt")] == "beantragen"


def test_strip_stopwords_keeps_content_words_in_their_spelling() -> None:
    assert strip_stopwords("ähm ich wollt fragen was ich für den Perso brauche") == "Perso"
    assert strip_stopwords("Wie melde ich mein Auto-Kennzeichen um?") == "melde Auto-Kennzeichen"
    # nothing but stop words: the text stays as it is rather than becoming empty
    assert strip_stopwords("was kann ich tun") == "was kann ich tun"
