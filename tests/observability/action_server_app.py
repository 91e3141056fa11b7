"""``python -m tests.observability.action_server_app PORT CIDRS``: rasa_sdk's real Sanic app with
the action server's /metrics, after three decisions of a measured stand-in retriever."""

from __future__ import annotations

import sys

from rasa_sdk.endpoint import create_app

from bot.observability.access import parse_networks
from bot.observability.actions import MeasuredDecider, mount_metrics
from bot.observability.metrics import ActionMetrics
from retrieval.api import Decision, DecisionKind, Hit


class StandInRetriever:
    """Decides by keyword, like the real one does by score."""

    def decide(self, text: str) -> Decision:
        if "ausweis" in text.lower():
            return Decision(DecisionKind.ANSWER, (Hit("pa", 0.9),), confidence=0.9)
        if "pass" in text.lower():
            return Decision(DecisionKind.CLARIFY, (Hit("rp", 0.5), Hit("krp", 0.5)))
        return Decision(DecisionKind.ABSTAIN, ())


def main() -> None:
    port, cidrs = int(sys.argv[1]), sys.argv[2].split(",")
    metrics = ActionMetrics()
    decider = MeasuredDecider(StandInRetriever(), metrics)
    for text in ("Personalausweis", "Ausweis verloren", "Pass", "Drachen"):
        decider.decide(text)
    app = create_app("bot.actions", cors_origins=[])
    mount_metrics(app, metrics, parse_networks(cidrs))
    app.run("127.0.0.1", port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
