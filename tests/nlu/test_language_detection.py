import pytest

from bot.nlu.language import detect_language


@pytest.mark.parametrize("text", [
    "Hello", "How much does a passport cost?", "I am moving to Musterstadt", "Are you a bot?",
    "thanks", "Bye", "Where can I do that?", "is my passport ready yet",
    "I want to talk to a human", "what documents do I need for a residence permit",
])
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", [
    "Was kostet ein Reisepass?", "Danke", "ich will mein auto anmelden", "Tschüss", "Hallo",
    "Ich meine den Reisepass", "Wo kann ich das machen?", "Ich wohne in der Nordstadt",
    "Bürgerbüro", "Ich habe eine Frage zur Anmeldung",
    # undecided: German, the administration's language
    "hi", "ok", "12345", "", "Reisepass",
])
def test_german_and_undecided(text: str) -> None:
    assert detect_language(text) == "de"


def test_umlauts_tip_mixed_text_to_german() -> None:
    assert detect_language("Ich brauche eine Bescheinigung für the office") == "de"
