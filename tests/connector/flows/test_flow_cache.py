"""The flow cache asks the database nothing while the configuration token is unchanged."""

from sqlalchemy import event

from connector import db
from connector.flows.runner import flow_cache

from .conftest import EXAMPLE


def test_no_query_while_the_token_is_unchanged_and_a_reload_after_an_import(env):
    env.add_group("sales", [])
    env.add_group("support", [])
    env.import_flow(EXAMPLE.read_text())
    engine = db.get_engine(env.app)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    cache = flow_cache(env.app)
    with engine.connect() as conn:
        assert cache.refresh(conn).flows["main"].version == 1  # checked once after the import
        statements.clear()
        for _ in range(3):
            assert cache.refresh(conn).flows["main"].version == 1
    assert statements == []
    changed = EXAMPLE.read_text().replace("timeout = 5", "timeout = 6")
    assert env.import_flow(changed).version == 2
    with engine.connect() as conn:
        assert cache.refresh(conn).flows["main"].version == 2
    assert statements  # the import moved the token: versions read, the flow reloaded
