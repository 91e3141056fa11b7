"""A failing SQL statement's error message does not carry the citizen's text into the logs:
SQLAlchemy hides the statement's parameters; what PostgreSQL itself quotes back (the failing
row) is caught by the log pipeline's redaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.privacy.redact import redact
from bot.store import Store

SECRET = "Ich heiße Erika Mustermann, IBAN DE89370400440532013000"


async def test_sql_errors_hide_statement_parameters(store: Store) -> None:
    with pytest.raises(sa.exc.DBAPIError) as raised:
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO messages (conversation_id, seq, role, text)"
                                       " VALUES (:cid, 1, 'citizen', :text)"),
                               {"cid": None, "text": SECRET})
    message = str(raised.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    logged = redact(message)
    assert "Erika" not in logged and "DE89370400440532013000" not in logged
