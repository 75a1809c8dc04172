"""The local stack's journal, on files: framing, recovery, group commit, compaction, and the
stream read from it. The journaling proxy in front of a real moto server is tested over HTTP
in ``tests/integration/test_journal_proxy.py``."""
from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from dev import journal
from dev.journal import Journal, JournalError, Snapshot, TornFrame, compact, list_segments, recover
from dev.journal_stream import JournalReader, JournalStream, StreamFeeder

EVENTS, LINKS = "t-events", "t-links"


def event(n: int, **extra) -> tuple[dict, dict]:
    key = {"pk": {"S": f"c#{n % 16:02d}"}, "sk": {"S": f"v#{n}"}}
    return key, {**key, "kind": {"S": "visit"}, **extra}


def put_event(n: int, old: dict | None = None, **extra) -> dict:
    key, item = event(n, **extra)
    return {"table": EVENTS, "key": key, "new": item, "old": old}


def put_link(code: str, name: str) -> dict:
    key = {"code": {"S": code}}
    return {"table": LINKS, "key": key, "new": {**key, "name": {"S": name}}}


def delete_link(code: str) -> dict:
    return {"table": LINKS, "key": {"code": {"S": code}}, "new": None}


def live_images(directory: Path) -> dict:
    return {journal.key_id(table, {k: v for k, v in item.items() if k in ("pk", "sk", "code")}): item
            for table, item in recover(directory).images()}


def write(directory: Path, frames: list[list[dict]], segment_bytes: int = journal.SEGMENT_BYTES) -> Journal:
    """A journal that appended ``frames`` and synced them; left open, as a crash would."""
    recovered = recover(directory)
    log = Journal(directory, recovered.next_seq, segment_bytes=segment_bytes)
    for changes in frames:
        log.wait_durable(log.append(changes))
    return log


# Framing and recovery -----------------------------------------------------------------

def test_a_frame_round_trips_and_a_flipped_byte_is_detected(tmp_path):
    frame = journal.encode_frame({"seq": 7, "changes": [put_link("abc", "Zoé")]})
    path = tmp_path / "frame"
    path.write_bytes(frame)
    with open(path, "rb") as stream:
        assert journal.read_frame(stream)["changes"][0]["new"]["name"] == {"S": "Zoé"}
        assert journal.read_frame(stream) is None
    damaged = bytearray(frame)
    damaged[-3] ^= 0x20
    path.write_bytes(bytes(damaged))
    with open(path, "rb") as stream, pytest.raises(TornFrame) as torn:
        journal.read_frame(stream)
    assert not torn.value.incomplete


def test_a_torn_last_record_is_ignored_and_cut_off_at_recovery(tmp_path):
    write(tmp_path, [[put_link("a", "one")], [put_link("b", "two")]])
    segment, = list_segments(tmp_path)
    whole = segment.path.stat().st_size
    with open(segment.path, "ab") as out:  # a crash in the middle of the third append
        out.write(journal.encode_frame({"seq": 3, "at": 0, "changes": [put_link("c", "three")]})[:-5])
    recovered = recover(tmp_path)
    assert recovered.next_seq == 3 and recovered.torn
    assert segment.path.stat().st_size == whole
    assert {item["name"]["S"] for _, item in recovered.images()} == {"one", "two"}


def test_recovery_holds_the_latest_image_of_every_key_and_no_deleted_key(tmp_path):
    write(tmp_path, [[put_link("a", "first")], [put_link("b", "kept")], [put_link("a", "second")],
                     [put_link("c", "gone")], [delete_link("c")], [put_event(1), put_event(2)]])
    images = {table + ":" + json.dumps(item, sort_keys=True) for table, item in recover(tmp_path).images()}
    assert len(images) == 4
    names = {item.get("name", {}).get("S") for _, item in recover(tmp_path).images()}
    assert names == {"second", "kept", None}


def test_sequence_numbers_continue_after_a_restart_and_files_are_private(tmp_path):
    first = write(tmp_path, [[put_link("a", "x"), put_link("b", "y")], [put_event(1)]])
    assert first.written_seq == 3
    second = write(tmp_path, [[put_event(2)]])  # the first was never closed: a crash
    assert second.written_seq == 4
    second.close()
    third = write(tmp_path, [[put_event(3)]])
    assert third.written_seq == 5
    third.close()
    reader = JournalReader(tmp_path)
    assert [change["seq"] for change in reader.read(10)] == [3, 4, 5]
    reader.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# Group commit and failures ------------------------------------------------------------

def test_one_fsync_covers_many_concurrent_writers(tmp_path):
    syncs = []

    def slow_sync(fd: int) -> None:
        syncs.append(fd)
        time.sleep(0.01)
        os.fsync(fd)

    log = Journal(tmp_path, 1, sync=slow_sync)
    writers, writes = 16, 10
    durable_on_return = []

    def writer(n: int) -> None:
        for i in range(writes):
            seq = log.append([put_link(f"{n}-{i}", "x")])
            log.wait_durable(seq)
            durable_on_return.append(log.durable_seq >= seq)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(durable_on_return) and len(durable_on_return) == writers * writes
    assert len(syncs) <= writers * writes / 3, f"{len(syncs)} fsyncs for {writers * writes} writes"
    log.close()


def test_an_append_is_not_durable_before_its_fsync(tmp_path):
    syncs = []
    log = Journal(tmp_path, 1, sync=syncs.append)
    seq = log.append([put_link("a", "x")])
    assert (log.written_seq, log.durable_seq, syncs) == (1, 0, [])
    log.wait_durable(seq)
    assert log.durable_seq == 1 and len(syncs) == 1
    log.wait_durable(seq)
    assert len(syncs) == 1  # already durable: no second fsync


def test_an_fsync_error_fails_the_journal_for_good(tmp_path):
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    log = Journal(tmp_path, 1, sync=failing)
    seq = log.append([put_link("a", "x")])
    with pytest.raises(JournalError):
        log.wait_durable(seq)
    with pytest.raises(JournalError):
        log.append([put_link("b", "y")])
    assert log.failure is not None


# Compaction ---------------------------------------------------------------------------

def test_compaction_keeps_the_images_and_the_stream_changes_not_consumed_yet(tmp_path):
    frames = [[put_event(n), put_link(f"l{n % 7}", f"v{n}")] for n in range(200)] + [[delete_link("l3")]]
    log = write(tmp_path, frames, segment_bytes=2_000)
    before = live_images(tmp_path)
    assert len(list_segments(tmp_path)) > 5
    result = compact(tmp_path, keep_after=300)
    assert result is not None and result.covers == list_segments(tmp_path)[-1].first - 1
    assert len(list_segments(tmp_path)) == 1  # only the open segment is left
    assert live_images(tmp_path) == before
    with Snapshot.open(tmp_path) as snapshot:
        carried = [change["seq"] for change in snapshot.carry()]
    stream_seqs = [1 + 2 * n for n in range(200)]  # every frame: the event first, then the link
    assert carried == [seq for seq in stream_seqs if 300 < seq <= result.covers]
    reader = JournalReader(tmp_path, position=300)
    assert [change["seq"] for change in reader.read(1000)] == [seq for seq in stream_seqs if seq > 300]
    reader.close()
    log.close()


def test_a_compaction_interrupted_before_deleting_segments_changes_nothing(tmp_path, monkeypatch):
    write(tmp_path, [[put_event(n), put_link(f"l{n % 5}", f"v{n}")] for n in range(100)], segment_bytes=1_500)
    before = live_images(tmp_path)
    monkeypatch.setattr(journal, "_delete", lambda segments, directory: None)  # the crash
    compact(tmp_path, keep_after=0)
    monkeypatch.undo()
    assert len(list_segments(tmp_path)) > 2
    open_segment = list_segments(tmp_path)[-1]
    assert live_images(tmp_path) == before
    assert list_segments(tmp_path) == [open_segment]  # recovery dropped the folded segments
    recovered = recover(tmp_path)
    assert recovered.tail_changes == recovered.next_seq - open_segment.first  # only the open segment's


def test_compaction_is_due_when_closed_segments_outgrow_the_snapshot(tmp_path):
    log = write(tmp_path, [[put_link(f"l{n}", "x" * 200)] for n in range(50)], segment_bytes=2_000)
    assert journal.compaction_due(tmp_path, min_bytes=1_000)
    compact(tmp_path, keep_after=0)
    assert not journal.compaction_due(tmp_path, min_bytes=1_000)
    for n in range(10):  # a few more closed segments, but less than the snapshot holds
        log.wait_durable(log.append([put_link(f"l{n}", "y" * 200)]))
    assert not journal.compaction_due(tmp_path, min_bytes=1_000)
    log.close()


def test_a_reader_gets_every_stream_change_once_in_order_while_segments_rotate_and_compact(tmp_path):
    log = Journal(tmp_path, 1, segment_bytes=3_000)
    total = 600
    got: list[int] = []
    done = threading.Event()

    def writer() -> None:
        for n in range(total):
            log.wait_durable(log.append([put_link(f"l{n % 9}", "x"), put_event(n)]))
        done.set()

    def consumer() -> None:
        reader = JournalReader(tmp_path)
        while not (done.is_set() and reader.position >= log.durable_seq):
            got.extend(change["seq"] for change in reader.read(50, upto=log.durable_seq))
            consumed.append(reader.position)
        reader.close()

    consumed: list[int] = [0]
    threads = [threading.Thread(target=writer), threading.Thread(target=consumer)]
    for thread in threads:
        thread.start()
    while not done.is_set():
        compact(tmp_path, keep_after=consumed[-1])
        time.sleep(0.005)
    for thread in threads:
        thread.join(30)
    assert got == [2 + 2 * n for n in range(total)]
    log.close()


# The stream read from the journal ------------------------------------------------------

def test_stream_records_have_lambdas_shape_and_the_position_survives(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    data_dir = tmp_path
    directory = journal.private_directory(data_dir / "journal")
    old = event(1)[1]
    write(directory, [[put_event(1)], [put_link("a", "x")], [put_event(1, old=old, hits={"N": "2"})],
                      [{"table": EVENTS, "key": event(1)[0], "new": None, "old": event(1, hits={"N": "2"})[1]}]])
    batches = []
    stream = JournalStream(data_dir, lambda batch, context: batches.append(batch), consumer="unit")
    assert stream.drain() == 3
    records = batches[0]["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == ["1", "3", "4"]
    first = records[0]
    assert first["eventSource"] == "aws:dynamodb" and first["awsRegion"] == "eu-west-3"
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and "OldImage" not in first["dynamodb"]
    assert records[1]["dynamodb"]["OldImage"] == old and records[1]["dynamodb"]["NewImage"]["hits"] == {"N": "2"}
    assert "NewImage" not in records[2]["dynamodb"] and records[2]["dynamodb"]["Keys"] == event(1)[0]
    assert first["eventSourceARN"].startswith("arn:aws:dynamodb:eu-west-3:")
    assert journal.read_position(directory, "unit") == 4
    again = JournalStream(data_dir, lambda batch, context: batches.append(batch), consumer="unit")
    assert again.drain() == 0


def test_a_batch_that_raises_is_handed_over_again(tmp_path):
    directory = journal.private_directory(tmp_path / "journal")
    write(directory, [[put_event(n)] for n in range(5)])
    calls = []

    def flaky(batch, context):
        calls.append(len(batch["Records"]))
        if len(calls) == 1:
            raise RuntimeError("DynamoDB throttled")

    stream = JournalStream(tmp_path, flaky, consumer="unit", batch_size=3)
    with pytest.raises(RuntimeError):
        stream.drain()
    assert stream.drain() == 5
    assert calls == [3, 3, 2]


def test_the_feeder_sets_aside_a_batch_that_keeps_failing_and_goes_on(tmp_path, caplog):
    directory = journal.private_directory(tmp_path / "journal")
    log = write(directory, [[put_event(n, poison={"BOOL": n == 1})] for n in range(4)])
    handled = []

    def aggregator(batch, context):
        if any(r["dynamodb"]["NewImage"]["poison"]["BOOL"] for r in batch["Records"]):
            raise ValueError("poison")
        handled.extend(r["dynamodb"]["SequenceNumber"] for r in batch["Records"])

    failures = tmp_path / "failed.jsonl"
    feeder = StreamFeeder(JournalStream(tmp_path, aggregator, consumer="aggregator", batch_size=2), log,
                          failures, attempts=3, pause=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=feeder.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while feeder.stream.position < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert handled == ["3", "4"]
    entry, = [json.loads(line) for line in failures.read_text().splitlines()]
    assert entry["DDBStreamBatchInfo"]["startSequenceNumber"] == "1"
    assert entry["DDBStreamBatchInfo"]["endSequenceNumber"] == "2"
    assert entry["requestContext"]["approximateInvokeCount"] == 3 and len(entry["Records"]) == 2
    assert stat.S_IMODE(failures.stat().st_mode) == 0o600
    assert "STREAM BATCH SKIPPED" in caplog.text
