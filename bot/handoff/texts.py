"""What citizens read from the handoff part (German; staff texts live with the console)."""

from __future__ import annotations

STAFF_JOINED = "{name} vom Service-Team ist jetzt für Sie da."
BACK_TO_BOT = ("Sie sprechen jetzt wieder mit dem digitalen Assistenten. Fragen Sie gerne weiter.")
BACK_TO_QUEUE = ("Ihr Gespräch wird gleich von einer anderen Person aus dem Service-Team "
                 "weitergeführt. Bitte haben Sie einen Moment Geduld.")
CLOSED = ("Das Service-Team hat das Gespräch beendet. Vielen Dank! Wenn Sie noch Fragen haben, "
          "schreiben Sie einfach weiter – dann antwortet wieder der digitale Assistent.")
CALLBACK_FILED_BY_STAFF = ("Das Service-Team meldet sich bei Ihnen (Rückrufwunsch Nummer "
                           "{ticket}, spätestens {due}).")
RATING_PROMPT = "Wie zufrieden waren Sie mit der Beratung durch das Service-Team?"
RATING_THANKS = "Vielen Dank für Ihre Bewertung!"
CANCELLED_WAITING = ("In Ordnung, Sie sind nicht mehr in der Warteschlange. Sie sprechen wieder "
                     "mit dem digitalen Assistenten.")
QUEUE_HINT = ("Wenn Sie nicht warten möchten, schreiben Sie „Rückruf“ – dann melden wir uns "
              "bei Ihnen. Mit „abbrechen“ verlassen Sie die Warteschlange.")
CLOSED_HOURS = ("Unser Service-Team ist gerade nicht erreichbar (Servicezeiten: {hours}{next}).")
NOBODY_ONLINE = "Gerade ist leider niemand aus dem Service-Team frei."
TICKET_EXISTS = ("Ihr Rückrufwunsch ist bereits erfasst (Nummer {ticket}). Wir melden uns "
                 "spätestens {due}.")
