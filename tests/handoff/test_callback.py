import pytest

from bot.handoff.callback import CONSENT, NO, YES, CallbackForm, FormStep, advance, offer


def _run(*inputs: str) -> tuple[CallbackForm | None, list[str], bool]:
    turn = offer({"reason": "low_confidence"}, "Niemand da.", 24)
    said = [m.text for m in turn.messages]
    form = turn.form
    filed = False
    for text in inputs:
        assert form is not None
        turn = advance(form, text)
        said.extend(m.text for m in turn.messages)
        form, filed = turn.form, turn.file_ticket
    return form, said, filed


def test_the_happy_path_needs_explicit_consent() -> None:
    form, said, filed = _run(YES, "Erika Mustermann", "+49 151 234 5678")
    assert form is not None and form.step is FormStep.CONFIRM and not filed
    assert form.phone == "+49 151 234 5678" and form.email == ""
    assert "Ich willige ein" in said[-1]
    assert advance(form, "vielleicht").form == form  # asks again, files nothing
    assert advance(form, CONSENT).file_ticket
    assert advance(form, "Ja").file_ticket


@pytest.mark.parametrize("inputs", [(NO,), ("nein",), (YES, "abbrechen"), (YES, "Max", NO),
                                    (YES, "Max", "max@example.de", "Abbrechen")])
def test_cancel_at_any_step(inputs: tuple[str, ...]) -> None:
    form, said, filed = _run(*inputs)
    assert form is None and not filed and "nichts gespeichert" in said[-1]


def test_invalid_inputs_are_asked_again() -> None:
    form, said, _ = _run("hm?", YES, "/x", "12")
    assert form is not None and form.step is FormStep.NAME
    form, said, _ = _run(YES, "Max", "123", "anruf gern")
    assert form is not None and form.step is FormStep.CONTACT
    assert "nicht als Telefonnummer" in said[-1]


def test_email_and_json_round_trip() -> None:
    form, _, _ = _run(YES, "Max", "Schreiben Sie an max.muster@example.de, danke")
    assert form is not None and form.email == "max.muster@example.de" and form.phone == ""
    assert CallbackForm.from_json(form.to_json()) == form
