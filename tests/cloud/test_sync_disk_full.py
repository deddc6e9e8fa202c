"""Disk full (SQLite's own page limit on the writer connection): an earn fails cleanly,
nothing is half-written, sync keeps its promises, and all recovers when space returns."""

from __future__ import annotations


from kiosk.errors import StoreError

from .conftest import assert_cloud_holds_exactly_the_kiosk_events, drain_to_empty, past_retry, seed


def page_limit(store, pages: int | None) -> None:
    """Cap (or lift) the database size of the store's writer connection."""
    def tx(db):
        if pages is None:
            db.execute("PRAGMA max_page_count = 1073741823")
        else:
            db.execute(f"PRAGMA max_page_count = {int(pages)}")

    store.write(tx)


def counts(store) -> tuple[int, int, int]:
    return (store.counts()["ledger"], store.counts()["outbox"], store.outbox_depth())


def test_an_earn_on_a_full_disk_fails_with_a_clear_error_writes_nothing_and_recovers(
    cloud, store, device, make_worker
):
    (member_id,) = seed(store, members=1, earns=1)
    worker = make_worker(batch_events=50)
    (page_count,) = store.query("PRAGMA page_count")[0]
    page_limit(store, page_count)
    error = None
    for n in range(5_000):  # fill the free space in the last pages, then hit the wall
        before = (counts(store), store.balance(member_id).points)
        try:
            store.record(member_id, "earn", 7, amount=70_000, receipt_id=f"full-{n}")
        except StoreError as exc:
            error = exc
            break
    assert error is not None, "the page limit never filled up"
    assert "is full; nothing was written" in str(error) and "Free some space" in str(error)
    assert (counts(store), store.balance(member_id).points) == before
    assert store.verify() == []

    # Sync while full: the cloud may accept, marking delivered may fail; nothing is lost.
    for _ in range(3):
        worker.drain()
    assert store.verify() == []

    page_limit(store, None)  # space returns
    recovered = store.record(member_id, "earn", 7, amount=70_000, receipt_id="after-full")
    assert recovered.applied
    drain_to_empty(worker, store)
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)


def test_a_database_failure_after_the_cloud_committed_is_a_failed_round_and_the_resend_is_a_duplicate(
    cloud, store, device, make_worker
):
    seed(store, members=1, earns=3)
    worker = make_worker(batch_events=50)
    # The disk fills exactly between the cloud's answer and marking the rows delivered.
    store.write(lambda db: db.execute(
        "CREATE TRIGGER full_disk BEFORE UPDATE OF sent_at ON outbox"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    ))
    result = worker.drain()
    assert result.failed and result.delivered == 0
    assert worker.status.last_error.startswith("local database:") and "is full" in worker.status.last_error
    assert store.outbox_depth() == 6  # nothing marked delivered, nothing lost
    assert len(cloud.store.event_ids(device.device_id)) == 6  # but the cloud has them
    store.write(lambda db: db.execute("DROP TRIGGER full_disk"))
    past_retry(worker.clock, result.retry_in)
    drain_to_empty(worker, store)
    assert worker.status.delivered_total == 6  # answered "duplicate": delivered, once
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)


def test_a_config_that_cannot_be_kept_on_a_full_disk_is_not_cached_and_the_next_pull_applies_it(
    cloud, store, make_worker, tmp_path
):
    from kiosk.sync.files import ConfigCache

    cloud.store.set_config("tehran-01", {"rules": {}, "tiers": [], "rewards": [], "campaigns": []})
    cache = ConfigCache(tmp_path / "config-cache.json")
    worker = make_worker(config_cache=cache, on_config=lambda document: store.upsert_reward("tea", "Tea", 50))
    store.write(lambda db: db.execute(
        "CREATE TRIGGER full_disk BEFORE INSERT ON rewards BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
    assert worker.pull_config() is False  # no exception out of the worker's round
    assert "is full" in worker.status.config_error and cache.load() is None and store.rewards() == []
    store.write(lambda db: db.execute("DROP TRIGGER full_disk"))
    assert worker.pull_config() is True  # not "not modified": the unkept config is fetched and applied again
    assert [r["id"] for r in store.rewards()] == ["tea"] and cache.load() is not None
    assert worker.status.config_error == ""
