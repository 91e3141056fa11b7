from bot.actions.summary import MAX_CHARS, staff_summary


def test_summary_names_reason_topic_and_last_messages() -> None:
    text = staff_summary(
        "complaint", services=["Reisepass beantragen"], aspect="fees",
        user_messages=["Was kostet ein Reisepass?", "/affirm", "Das ist viel zu teuer!"],
    )
    lines = text.splitlines()
    assert lines[0] == "Anlass: Beschwerde."
    assert lines[1] == "Thema: Reisepass beantragen (Gebühren)."
    # Button payloads are not the citizen's words.
    assert lines[-1] == "Letzte Nachrichten: „Was kostet ein Reisepass?“ | „Das ist viel zu teuer!“"


def test_summary_keeps_only_the_last_three_messages_clipped() -> None:
    messages = [f"Nachricht {i}" for i in range(6)] + ["x" * 500]
    text = staff_summary("explicit_request", user_messages=messages)
    last = text.splitlines()[-1]
    assert "Nachricht 3" not in last and "Nachricht 4" in last
    assert "x" * (MAX_CHARS - 1) + "…" in last
    assert "x" * MAX_CHARS not in last


def test_summary_marks_distress_language_and_family() -> None:
    text = staff_summary("distress", persons=["Kind", "Kind"], language="en",
                         simple_language=True)
    assert text.startswith("Anlass: Notlage")
    assert "Betrifft auch: Kind." in text
    assert "Sprache: Englisch." in text
    assert "Wünscht Leichte Sprache." in text


def test_general_aspect_and_unknown_reason_stay_plain() -> None:
    text = staff_summary("something_new", services=["Hundesteuer"], aspect="general")
    assert text.splitlines() == ["Anlass: something_new.", "Thema: Hundesteuer."]
