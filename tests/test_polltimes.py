"""The table of status poll times that the API's worker processes share."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime

import pytest

from stappen.storage import PollTimes, open_store
from stappen.storage.polltimes import STATE_TTL_MS

PROCESSES = 4


@pytest.fixture
def polls(tmp_path):
    table = PollTimes(tmp_path / "polls")
    yield table
    table.close()


def test_polls_apart_by_the_interval_pass(polls):
    first = polls.record("tx-1", 10_000, 1000).wait_ms
    early = polls.record("tx-1", 10_400, 1000).wait_ms
    on_time = polls.record("tx-1", 11_000, 1000).wait_ms
    early_again = polls.record("tx-1", 11_250, 1000).wait_ms

    assert first is None
    assert early == 600
    assert on_time is None
    assert early_again == 750


def test_early_poll_keeps_the_recorded_time(polls):
    polls.record("tx-1", 10_000, 1000)
    polls.record("tx-1", 10_900, 1000)

    assert polls.record("tx-1", 11_000, 1000).wait_ms is None


def test_clock_set_back_waits_the_whole_interval(polls):
    polls.record("tx-1", 15_000, 1000)

    assert polls.record("tx-1", 10_000, 1000).wait_ms == 1000


def test_sessions_are_limited_separately(polls):
    polls.record("tx-1", 10_000, 1000)

    assert polls.record("tx-2", 10_001, 1000).wait_ms is None
    assert polls.record("tx-1", 10_002, 1000).wait_ms == 998


def test_sessions_sharing_a_slot_take_turns(tmp_path):
    table = PollTimes(tmp_path / "polls", sets=1, ways=1)
    table.record("tx-1", 10_000, 1000)
    table.record("tx-2", 10_100, 1000)

    # tx-2 took the only slot, so tx-1's earlier poll is forgotten.
    assert table.record("tx-1", 10_200, 1000).wait_ms is None
    assert table.record("tx-1", 10_300, 1000).wait_ms == 900
    table.close()


def test_sessions_of_one_set_keep_their_slots(tmp_path):
    table = PollTimes(tmp_path / "polls", sets=1, ways=4)
    for index in range(4):
        table.record(f"tx-{index}", 10_000 + index, 1000)

    waits = [table.record(f"tx-{index}", 10_500, 1000).wait_ms for index in range(4)]

    assert waits == [500, 501, 502, 503]
    table.close()


def test_full_set_evicts_the_oldest_poll(tmp_path):
    table = PollTimes(tmp_path / "polls", sets=1, ways=4)
    for index, moment in enumerate([10_300, 10_000, 10_200, 10_100]):
        first = table.record(f"tx-{index}", moment, 1000)
        table.remember_state(f"tx-{index}", first.version, "created", 70_000, moment)

    table.record("tx-new", 10_400, 1000)
    remaining = [table.record(f"tx-{index}", 10_600, 1000) for index in (0, 2, 3)]
    lost = table.record("tx-1", 10_600, 1000)

    # tx-1 was polled longest ago, so it lost its slot and its copy.
    assert [poll.wait_ms for poll in remaining] == [700, 600, 500]
    assert (lost.wait_ms, lost.state) == (None, None)
    table.close()


def test_many_sessions_rarely_lose_their_slot(tmp_path):
    table = PollTimes(tmp_path / "polls")
    sessions = [f"tx-{index}" for index in range(10_000)]
    for session in sessions:
        table.record(session, 10_000, 1000)

    early = [table.record(session, 10_500, 1000).wait_ms for session in sessions]

    # A session that lost its slot is let through early with None. With
    # one slot per id, about 1,400 of these 10,000 would be.
    assert early.count(None) < 50
    table.close()


def test_file_is_shared_and_private(tmp_path):
    first = PollTimes(tmp_path / "polls")
    second = PollTimes(tmp_path / "polls")
    first.record("tx-1", 10_000, 1000)

    assert second.record("tx-1", 10_500, 1000).wait_ms == 500
    assert (tmp_path / "polls").stat().st_mode & 0o777 == 0o600
    first.close()
    second.close()


def test_copy_of_state_serves_later_polls(polls):
    first = polls.record("tx-1", 10_000, 1000)
    polls.remember_state("tx-1", first.version, "created", 70_000, 10_000)
    second = polls.record("tx-1", 11_000, 1000)

    assert first.state is None
    assert second.state == "created"
    assert second.expires_ms == 70_000


def test_copy_of_state_expires(polls):
    first = polls.record("tx-1", 10_000, 1000)
    polls.remember_state("tx-1", first.version, "created", 70_000, 10_000)

    assert polls.record("tx-1", 10_000 + STATE_TTL_MS - 1, 1000).state == "created"
    assert polls.record("tx-1", 10_000 + 2 * STATE_TTL_MS, 1000).state is None


def test_forget_state_drops_the_copy(polls):
    first = polls.record("tx-1", 10_000, 1000)
    polls.remember_state("tx-1", first.version, "created", 70_000, 10_000)
    polls.forget_state("tx-1")

    assert polls.record("tx-1", 11_000, 1000).state is None


def test_state_read_before_a_change_is_not_kept(polls):
    poll = polls.record("tx-1", 10_000, 1000)
    # The state changes and commits while this poll reads the database.
    polls.forget_state("tx-1")
    polls.remember_state("tx-1", poll.version, "created", 70_000, 10_000)

    assert polls.record("tx-1", 11_000, 1000).state is None


def test_copy_of_another_session_is_not_served(tmp_path):
    table = PollTimes(tmp_path / "polls", sets=1, ways=1)
    first = table.record("tx-1", 10_000, 1000)
    table.remember_state("tx-1", first.version, "verified", 70_000, 10_000)
    taken = table.record("tx-2", 10_100, 1000)
    table.remember_state("tx-1", first.version, "verified", 70_000, 10_100)

    assert taken.state is None
    assert table.record("tx-2", 11_100, 1000).state is None
    table.close()


def test_primed_copy_serves_first_poll(polls):
    created = datetime.fromtimestamp(10, UTC)
    polls.prime("tx-1", "created", 70_000, created)

    first = polls.record("tx-1", 10_500, 1000)

    assert first.wait_ms is None
    assert first.state == "created"
    assert first.expires_ms == 70_000


def test_early_poll_gets_no_state(polls):
    first = polls.record("tx-1", 10_000, 1000)
    polls.remember_state("tx-1", first.version, "created", 70_000, 10_000)
    early = polls.record("tx-1", 10_500, 1000)

    assert early.wait_ms == 500
    assert early.state is None


def _race(path, barrier, results) -> None:
    table = PollTimes(path)
    barrier.wait()
    results.put(table.record("tx-race", 20_000, 1000).wait_ms)


def test_one_of_racing_processes_passes(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=_race, args=(tmp_path / "polls", barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    assert sorted(outcomes, key=str) == [1000] * (PROCESSES - 1) + [None]


def test_forked_child_opens_its_own_file(tmp_path, polls):
    polls.record("tx-parent", 10_000, 1000)
    inherited = polls._map
    reader, writer = os.pipe()

    child = os.fork()
    if child == 0:
        wait_ms = polls.record("tx-parent", 10_250, 1000).wait_ms
        os.write(writer, str(wait_ms).encode())
        os._exit(0 if inherited.closed and polls._map is not inherited else 1)

    os.close(writer)
    reply = os.read(reader, 16).decode()
    os.close(reader)
    _, status = os.waitpid(child, 0)

    assert reply == "750"
    assert os.waitstatus_to_exitcode(status) == 0


def test_sqlite_poll_times_beside_database(tmp_path):
    store = open_store("sqlite:///wallet.sqlite3", tmp_path)

    assert store.poll_times.path == tmp_path / "wallet.sqlite3-polls"


def test_postgresql_poll_times_in_instance_folder(tmp_path):
    store = open_store("postgresql://stappen@localhost/stappen", tmp_path)

    assert store.poll_times.path == tmp_path / "wallet-poll-times"
