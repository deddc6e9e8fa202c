"""The cloud's database layer: migrations, both engines, a database that goes away, several processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cloud.app import create_app
from cloud.db import Database, current_revision, head_revision, migrate
from cloud.db.schema import metadata
from cloud.errors import CloudError
from appliance.web_server import WebServer
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import CloudUnavailable
from tests.cloud.conftest import PASSWORD, ConsoleSession, RunningCloud

ROOT = Path(__file__).resolve().parents[2]


def test_a_migrated_database_matches_the_schema_module_exactly(database):
    with CloudStore(database) as store, store.db.read() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(database):
    db = Database(database)
    try:
        assert migrate(db) is None
        assert current_revision(db) == head_revision()
        with CloudStore(db, migrate_schema=False) as store:
            token = store.create_token("b1")
        assert migrate(db) == head_revision()
        with CloudStore(db) as store:
            assert store.register(token).branch == "b1"
    finally:
        db.close()


def test_migrate_from_the_command_line_says_the_revision(database, capsys):
    from cloud import cli

    assert cli.main(["--database", database, "migrate"]) == 0
    assert cli.main(["--database", database, "migrate"]) == 0
    assert f"schema revision {head_revision()}" in capsys.readouterr().out


def test_a_database_made_before_migrations_is_refused_with_what_to_do(tmp_path):
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(CloudError, match="before migrations"):
        CloudStore(old).close()


@pytest.mark.parametrize("url", ["mysql://somewhere/db", "postgresql:/postgres@127.0.0.1:5432/db"])
def test_an_unsupported_or_mangled_database_url_is_refused_and_no_file_is_made(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CloudError, match="postgresql://"):
        Database(url)
    assert list(tmp_path.iterdir()) == []


def test_the_same_batch_sent_to_two_processes_at_once_is_stored_once(database, server_clock):
    """Two cloud apps (as two processes would) on one database, racing on the same event ids."""
    apps = [create_app(database, clock=server_clock) for _ in range(2)]
    servers = [WebServer(app).start() for app in apps]
    try:
        store = apps[0].extensions["cloud_store"]
        with CloudClient(servers[0].url, clock=server_clock) as first:
            first.register(store.create_token("tehran-01"))
            events = [protocol.make_event("earn", "m-1", server_clock(), points=p, amount=p * 1000)
                      for p in range(1, 41)]
            body = [json.dumps(e) for e in events]
            clients = [CloudClient(s.url, device_id=first.device_id, device_key=first.device_key, clock=server_clock)
                       for s in servers]
            replies: list = []
            threads = [threading.Thread(target=lambda c=c: replies.append(c.send_batch(body))) for c in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            for client in clients:
                client.close()
        statuses = sorted(r["status"] for reply in replies for r in reply.results)
        assert sorted(store.event_ids()) == sorted(e["event_id"] for e in events)
        assert store.device(first.device_id).events_count == 40
        assert statuses.count("accepted") == 40 and statuses.count("duplicate") == 40
        assert store.lookup(member_id="m-1")["balance"] == sum(range(1, 41))
    finally:
        for server in servers:
            server.close()
        for app in apps:
            app.extensions["cloud_store"].close()


def test_a_console_login_on_one_process_is_valid_on_another(database, server_clock):
    apps = [create_app(database, clock=server_clock) for _ in range(2)]
    servers = [WebServer(app).start() for app in apps]
    try:
        from cloud.users import UserStore

        store = apps[0].extensions["cloud_store"]
        UserStore(store.db, server_clock).add("admin", PASSWORD, "admin")
        session = ConsoleSession(RunningCloud(servers[0].url, database, store, server_clock))
        assert session.login("admin").status_code == 302
        other = session.http.get(servers[1].url + "/", timeout=10, allow_redirects=False)
        assert other.status_code == 200 and "admin" in other.text
        session.close()
    finally:
        for server in servers:
            server.close()
        for app in apps:
            app.extensions["cloud_store"].close()


def test_a_read_on_postgresql_opens_no_transaction_and_the_next_write_on_its_connection_still_rolls_back(
        postgres_server):
    import psycopg
    from sqlalchemy import text

    # pool_size 1: the write below gets the very connection the read used.
    db = Database(postgres_server.create_database(), pool_size=1)
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE taps (n int)"))
        with db.read() as conn:
            conn.execute(text("SELECT count(*) FROM taps")).scalar()
            # No BEGIN was sent, so none is open: a tap's look-up pays no BEGIN and no ROLLBACK round trip.
            assert conn.connection.dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with pytest.raises(RuntimeError), db.write() as conn:
            conn.execute(text("INSERT INTO taps VALUES (1)"))
            raise RuntimeError("the batch failed half-way")
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM taps")).scalar() == 0
    finally:
        db.close()


def test_a_read_with_settings_has_them_and_the_next_read_on_its_connection_has_the_servers_own_again(
        postgres_server):
    from sqlalchemy import text

    from cloud.analytics import RUN_SETTINGS

    db = Database(postgres_server.create_database(), pool_size=1)
    try:
        with db.read() as conn:
            usual = {name: conn.execute(text(f"SHOW {name}")).scalar() for name in RUN_SETTINGS}
        assert usual != RUN_SETTINGS
        with db.read(RUN_SETTINGS) as conn:
            assert {name: conn.execute(text(f"SHOW {name}")).scalar() for name in RUN_SETTINGS} == RUN_SETTINGS
        with pytest.raises(RuntimeError), db.read(RUN_SETTINGS):
            raise RuntimeError("the segment run failed half-way")
        with db.read() as conn:
            assert {name: conn.execute(text(f"SHOW {name}")).scalar() for name in RUN_SETTINGS} == usual
    finally:
        db.close()


def test_two_serve_processes_share_one_postgresql(postgres_server, tmp_path):
    url = postgres_server.create_database()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_CLOUD_DB": url}
    with CloudStore(url) as store:
        token = store.create_token("tehran-01")
    processes, urls = [], []
    try:
        for _ in range(2):
            process = subprocess.Popen([sys.executable, "-m", "cloud.cli", "serve", "--port", "0"], cwd=ROOT, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            processes.append(process)
            line = process.stdout.readline()
            assert "serving" in line, line
            urls.append(line.rsplit(" on ", 1)[1].strip().rstrip("/"))
        with CloudClient(urls[0]) as client:
            client.register(token)
            event = protocol.make_event("earn", "m-9", client.clock(), points=7)
            with CloudClient(urls[1], device_id=client.device_id, device_key=client.device_key) as other:
                assert other.send_batch([json.dumps(event)]).results[0]["status"] == "accepted"
            assert client.lookup(member_id="m-9")["balance"] == 7
        assert requests.get(urls[1] + "/healthz", timeout=5).json() == {"status": "ok"}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()


def test_a_database_lost_mid_batch_is_answered_503_nothing_is_half_written_and_the_resend_lands(
        postgres_server, server_clock):
    url = postgres_server.create_database()
    app = create_app(url, clock=server_clock)
    store = app.extensions["cloud_store"]
    events = [protocol.make_event("earn", "m-1", server_clock(), points=p) for p in (1, 2, 3)]
    with store.db.write() as conn:
        # The third event's insert kills its own connection: the database is gone mid-transaction.
        conn.exec_driver_sql(
            "CREATE FUNCTION vanish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.event_id = '{events[2]['event_id']}' THEN PERFORM pg_terminate_backend(pg_backend_pid());"
            " END IF; RETURN NEW; END $$")
        conn.exec_driver_sql("CREATE TRIGGER vanish BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION vanish()")
    try:
        with WebServer(app) as server, CloudClient(server.url, clock=server_clock) as client:
            client.register(store.create_token("tehran-01"))
            with pytest.raises(CloudUnavailable) as lost:
                client.send_batch([json.dumps(e) for e in events])
            assert lost.value.status == 503
            assert store.event_ids() == [] and store.device(client.device_id).events_count == 0
            with store.db.write() as conn:
                conn.exec_driver_sql("DROP TRIGGER vanish ON events")
            reply = client.send_batch([json.dumps(e) for e in events])
            assert [r["status"] for r in reply.results] == ["accepted"] * 3
            assert store.lookup(member_id="m-1")["balance"] == 6
    finally:
        store.close()


def test_the_health_check_reads_no_table_so_it_answers_while_a_migration_locks_one(postgres_server, server_clock):
    url = postgres_server.create_database()
    app = create_app(url, clock=server_clock)
    store = app.extensions["cloud_store"]
    locker = Database(url)
    try:
        with WebServer(app) as server, locker.write() as conn:
            # What ALTER TABLE holds: nobody may even read the members until this transaction ends.
            conn.exec_driver_sql("LOCK TABLE members IN ACCESS EXCLUSIVE MODE")
            assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
    finally:
        locker.close()
        store.close()


def test_a_database_that_cannot_be_reached_is_answered_503_by_the_api_and_by_the_health_check(postgres_server, server_clock):
    url = postgres_server.create_database()
    app = create_app(url, clock=server_clock)
    store = app.extensions["cloud_store"]
    name = url.rsplit("/", 1)[1]
    try:
        with WebServer(app) as server, CloudClient(server.url, clock=server_clock) as client:
            client.register(store.create_token("tehran-01"))
            admin = Database(postgres_server.url())
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            try:
                with pytest.raises(CloudUnavailable) as down:
                    client.send_batch([json.dumps(protocol.make_event("earn", "m-1", server_clock(), points=1))])
                assert down.value.status == 503
                assert requests.get(server.url + "/healthz", timeout=10).status_code == 503
            finally:
                with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                admin.close()
    finally:
        store.close()
