"""Privacy: redaction of personal data, retention purge, per-conversation export and deletion
(docs/PRIVACY.md)."""
