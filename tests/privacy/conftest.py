from tests.handoff.fixtures import db_url, pg_cluster, store  # noqa: F401
