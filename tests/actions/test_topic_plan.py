"""Topic planning: what to answer given the turn and retrieval's decision (pure)."""

from bot.actions.plan import PlanKind, plan_answer
from bot.actions.turn import Turn
from retrieval.api import Aspect, Decision, DecisionKind, Hit

KNOWN = frozenset({"reisepass", "personalausweis", "hundesteuer-anmeldung"})


def decision(kind: DecisionKind, *ids: str, aspect: Aspect = Aspect.GENERAL) -> Decision:
    hits = tuple(Hit(i, 1.0 - n / 10) for n, i in enumerate(ids))
    return Decision(kind, hits, aspect=aspect, confidence=0.9 if kind == "answer" else 0.3)


def turn(intent: str, *, current: str | None = None, current_aspect: str | None = None,
         **entities: tuple[str, ...]) -> Turn:
    """A turn with slots ``current``/``current_aspect`` and the given NLU entities."""
    return Turn(text="...", intent=intent, entities=entities, service_id=current,
                aspect=current_aspect)


def test_confident_answer_starts_a_topic() -> None:
    plan = plan_answer(turn("ask_service", service=("Reisepass",)),
                       decision(DecisionKind.ANSWER, "reisepass", aspect=Aspect.DOCUMENTS), KNOWN)
    assert (plan.kind, plan.service_id, plan.aspect) == (PlanKind.ANSWER, "reisepass",
                                                        Aspect.DOCUMENTS)
    assert not plan.follow_up


def test_follow_up_keeps_the_service_and_takes_the_new_aspect() -> None:
    plan = plan_answer(turn("ask_followup", current="reisepass", current_aspect="documents",
                            aspect=("fees",)),
                       decision(DecisionKind.ANSWER, "hundesteuer-anmeldung"), KNOWN)
    assert (plan.kind, plan.service_id, plan.aspect) == (PlanKind.ANSWER, "reisepass", Aspect.FEES)
    assert plan.follow_up


def test_follow_up_aspect_from_retrieval_when_nlu_found_none() -> None:
    plan = plan_answer(turn("ask_followup", current="reisepass"),
                       decision(DecisionKind.ABSTAIN, aspect=Aspect.OFFICE), KNOWN)
    assert (plan.service_id, plan.aspect) == ("reisepass", Aspect.OFFICE)


def test_a_new_service_replaces_the_old_topic() -> None:
    plan = plan_answer(turn("ask_service", current="reisepass", service=("Hund",)),
                       decision(DecisionKind.ANSWER, "hundesteuer-anmeldung"), KNOWN)
    assert plan.service_id == "hundesteuer-anmeldung" and not plan.follow_up


def test_nlu_took_a_follow_up_for_a_new_question() -> None:
    # "Und was kostet der?" classified as ask_service; retrieval is unsure.
    plan = plan_answer(turn("ask_service", current="reisepass", aspect=("fees",)),
                       decision(DecisionKind.CLARIFY, "personalausweis", "hundesteuer-anmeldung"),
                       KNOWN)
    assert (plan.kind, plan.service_id, plan.aspect) == (PlanKind.ANSWER, "reisepass", Aspect.FEES)


def test_clarify_when_retrieval_is_unsure_and_no_topic_fits() -> None:
    plan = plan_answer(turn("ask_service", service=("Ausweis",), aspect=("fees",)),
                       decision(DecisionKind.CLARIFY, "personalausweis", "reisepass"), KNOWN)
    assert plan.kind == PlanKind.CLARIFY
    assert [h.service_id for h in plan.hits] == ["personalausweis", "reisepass"]
    assert plan.aspect == Aspect.FEES


def test_button_choice_answers_with_the_aspect_asked_before() -> None:
    plan = plan_answer(turn("choose_service", current_aspect="fees",
                            service_id=("reisepass",)), None, KNOWN)
    assert (plan.kind, plan.service_id, plan.aspect) == (PlanKind.ANSWER, "reisepass", Aspect.FEES)


def test_unknown_button_service_is_ignored() -> None:
    plan = plan_answer(turn("choose_service", service_id=("gibt-es-nicht",)),
                       decision(DecisionKind.ABSTAIN), KNOWN)
    assert plan.kind == PlanKind.ABSTAIN


def test_follow_up_without_topic_asks_which_service() -> None:
    for kind in DecisionKind:
        plan = plan_answer(turn("ask_followup", aspect=("fees",)), decision(kind, "reisepass"),
                           KNOWN)
        assert plan.kind == PlanKind.NO_TOPIC


def test_nothing_found_abstains() -> None:
    plan = plan_answer(turn("ask_service", service=("Raumschiff",)),
                       decision(DecisionKind.ABSTAIN), KNOWN)
    assert plan.kind == PlanKind.ABSTAIN


def test_general_question_without_service_name_does_not_stick_to_old_topic() -> None:
    plan = plan_answer(turn("ask_service", current="reisepass"),
                       decision(DecisionKind.ABSTAIN), KNOWN)
    assert plan.kind == PlanKind.ABSTAIN


def test_focus_takes_a_confident_search_on_the_service_name() -> None:
    from bot.actions.plan import focus

    whole = Decision(DecisionKind.ABSTAIN, (Hit("reisepass", 0.2),), aspect=Aspect.FEES,
                     life_situations=("umzug",))
    focused = Decision(DecisionKind.ANSWER, (Hit("reisepass", 0.9),), confidence=0.9)
    result = focus(whole, focused)
    assert result.kind == DecisionKind.ANSWER and result.best == Hit("reisepass", 0.9)
    assert result.aspect == Aspect.FEES and result.life_situations == ("umzug",)
    assert focus(whole, Decision(DecisionKind.CLARIFY, (Hit("reisepass", 0.5),))) is whole
