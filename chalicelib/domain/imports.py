"""Imports of crowdfunding platforms' exports, in the background.

A creator sends a file (in the request, or uploaded to the bucket through a presigned URL);
:func:`start` keeps it, records a ``queued`` job and queues it. The importer (:func:`run`,
the ``importer`` Lambda or ``make dev``'s thread) reads the file whole, counts its rows,
then applies them in chunks of :data:`CHUNK`, each chunk's tallies recorded with one
conditional write (``store.import_jobs.advance``). When its time runs short it stops
between chunks and queues the job again; killed, the queue delivers it again. Either way
it resumes after the last chunk recorded, and every row is idempotent:

- a ``pledges`` row is the pledge ``<platform>:<pledge_id>``, stored as the pledges API
  would (same id and body: unchanged; a refund ends it once). The chunk's pledges are read
  in one batch and only new or ended ones are written. A pledge carries the token of the
  import row that created it, so a row applied before a crash is still reported applied;
- a ``tag_totals`` row is a tag's new total (``store.tag_totals``): written only when it
  differs from the tag's current one, and the aggregator counts the difference.

A dry run reads the same and writes nothing but its job's tallies.
"""
from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.core import ids
from chalicelib.core import validation as v
from chalicelib.core.errors import ApiError, bad_request, not_found
from chalicelib.core.observability import count, logger
from chalicelib.domain import import_files
from chalicelib.domain.import_files import PledgeRow, RowError, TagTotalRow
from chalicelib.hotpath import platform_tags
from chalicelib.hotpath.platform_tags import UNCHANNELLED
from chalicelib.store import (
    campaigns_table,
    events_table,
    import_files_store,
    import_jobs,
    import_queue,
    links_table,
    tag_registry,
    tag_totals,
)
from chalicelib.store.import_jobs import Job, Tally
from chalicelib.store.records import Campaign, Pledge

MAX_BODY_BYTES = 5 * 1024 * 1024
"""A file sent in the request; a larger one goes through an upload."""
MAX_UPLOAD_BYTES = import_files.MAX_FILE_BYTES
CHUNK = 100
"""Rows applied between two records of progress: one BatchGetItem of pledges, one job update."""
SPARE_SECONDS = 60
"""The importer stops between chunks with this much of its time left, and queues the job again."""
ATTEMPTS = 3
RETRY_SECONDS = 5.0
"""A job whose run failed (DynamoDB away) is tried again this much later (SQS: its visibility timeout)."""
QUERY = frozenset({"kind", "preset", "dry_run", "upload"})

Row = PledgeRow | TagTotalRow | RowError


@dataclass(frozen=True)
class _Owner:
    code: str
    channel: str | None
    depth: int


# starting an import ------------------------------------------------------------------------

def _flag(value: str | None) -> bool:
    if value is None or value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise bad_request("invalid_dry_run", "dry_run must be 1 or 0.")


def _settings(campaign: Campaign, query: dict[str, str]) -> tuple[str, str | None, bool]:
    unknown = set(query) - QUERY
    if unknown:
        raise bad_request("invalid_query", f"Unknown parameter: {sorted(unknown)[0]}.")
    kind = v.one_of(query.get("kind"), import_files.KINDS, "invalid_kind", "kind")
    preset = query.get("preset") or None
    layout = import_files.PRESETS.get(preset) if preset is not None else None
    if preset is not None and (layout is None or layout.kind != kind):
        fitting = sorted(name for name, each in import_files.PRESETS.items() if each.kind == kind)
        raise bad_request("invalid_preset", f"No preset {preset[:40]!r} for {kind} imports: leave it out for the "
                          f"generic columns{', or use one of ' + ', '.join(fitting) if fitting else ''}.")
    if campaign.platform is None:
        raise ApiError(409, "platform_required",
                       "Set the campaign's platform first: imported pledges are named after it.")
    return kind, preset, _flag(query.get("dry_run"))


def start(campaign: Campaign, query: dict[str, str], body: bytes | None) -> dict:
    """Keep the file (the body, or the upload named by ``upload``), record the job, queue it."""
    kind, preset, dry_run = _settings(campaign, query)
    job_id = import_jobs.new_id()
    upload = query.get("upload")
    if upload is not None:
        if not ids.is_base62(upload, 8, 40):
            raise not_found("upload")
        key = import_files_store.upload_key(campaign.id, upload)
        size = import_files_store.size(key)
        if size is None:
            raise not_found("upload")
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(413, "payload_too_large", "An import file holds at most 100 MB.")
    else:
        if not body:
            raise bad_request("empty_body", "Send the CSV file as the body (text/csv), or upload it first.")
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", "A file over 5 MB goes through an upload: "
                           "POST …/imports/uploads, PUT the file to its URL, then import with upload=<id>.")
        key = import_files_store.import_key(campaign.id, job_id)
        import_files_store.put(key, body)
    platform = campaign.platform.name if campaign.platform else "other"
    job = Job(campaign_id=campaign.id, id=job_id, kind=kind, preset=preset, platform=platform, object_key=key,
              dry_run=dry_run, created_at=datetime.now(UTC))
    import_jobs.create(job)
    import_queue.send(import_queue.Message(campaign.id, job_id))
    return {"import": job_id, "status": "queued"}


def new_upload(campaign: Campaign) -> dict:
    """A presigned URL to PUT a large file to (``text/csv``, valid 15 minutes)."""
    upload = ids.random_base62(22)
    url, expires = import_files_store.upload_url(import_files_store.upload_key(campaign.id, upload))
    return {"upload": upload, "url": url, "expires_at": v.iso(expires)}


# reading jobs ------------------------------------------------------------------------------

def to_dict(job: Job, with_errors: bool = True) -> dict:
    body = {"import": job.id, "kind": job.kind, "preset": job.preset, "dry_run": job.dry_run, "status": job.status,
            "rows_done": job.rows_done, "rows": job.rows, "applied": job.applied, "unchanged": job.unchanged,
            "errors_count": job.errors_count,
            "changes": {"pledges": job.change_pledges, "amount": dict(job.change_amounts)},
            "created_at": v.iso(job.created_at), "updated_at": v.iso(job.updated_at)}
    return {**body, "errors": list(import_jobs.errors_of(job))} if with_errors else body


def status(campaign: Campaign, import_id: str) -> dict:
    job = import_jobs.get(campaign.id, import_id) if len(import_id) <= 40 and import_id.isalnum() else None
    if job is None:
        raise not_found("import")
    return to_dict(job)


def history(campaign: Campaign) -> dict:
    return {"imports": [to_dict(job, with_errors=False) for job in import_jobs.recent(campaign.id)]}


# running a job -----------------------------------------------------------------------------

def run(campaign_id: str, import_id: str, out_of_time: Callable[[], bool] = lambda: False) -> bool:
    """Apply the job's rows from where it stands; ``True`` when it is over (done or failed),
    ``False`` when it stopped for time (queue it again)."""
    job = import_jobs.get(campaign_id, import_id)
    if job is None or job.status in ("done", "failed"):
        return True
    campaign = campaigns_table.get(campaign_id)
    rows = _rows(job, campaign) if campaign is not None else None
    if campaign is None or rows is None:
        if campaign is None:
            import_jobs.fail(job, "campaign_deleted", "The campaign no longer exists.")
        return True
    job = import_jobs.begin(job, len(rows))
    if not rows:
        import_jobs.advance(job, 0, Tally())
    while job.status == "running" and job.rows_done < len(rows):
        if out_of_time():
            return False
        end = min(job.rows_done + CHUNK, len(rows))
        tally, first_day = _apply(campaign, job, rows[job.rows_done:end])
        if first_day is not None:
            campaign = replace(campaign, first_day=first_day)  # noted once, not again every chunk
        if not import_jobs.advance(job, end, tally):
            count("ImportChunkRaced")  # another worker counted it: carry on from where it stands
        job = import_jobs.get(campaign_id, import_id) or job
    return True


def _rows(job: Job, campaign: Campaign) -> list[Row] | None:
    """The file's rows, or ``None`` when the job failed on it (gone, not a readable CSV).
    Amounts that print no currency are in the campaign's goal currency."""
    try:
        data = import_files_store.read(job.object_key)
        return list(import_files.read_rows(io.BytesIO(data), job.kind, job.preset, job.created_at,
                                           currency=campaign.goal_currency))
    except import_files_store.FileMissing:
        import_jobs.fail(job, "file_missing", "The file is gone (files are kept a day): send it again.")
    except import_files.FileError as exc:
        import_jobs.fail(job, exc.code, exc.message)
    return None


def handle_queue_messages(records: Iterable[dict], remaining_ms: Callable[[], int]) -> dict:
    """The ``importer`` Lambda: each SQS message names a job; one that stops for time is
    queued again, one that fails is reported for SQS to deliver again."""
    failures = []
    for record in records:
        try:
            message = import_queue.Message.from_json(record["body"])
            if not run(message.campaign_id, message.import_id, lambda: remaining_ms() < SPARE_SECONDS * 1000):
                import_queue.send(message)
        except Exception as exc:
            logger.exception("import job failed; SQS delivers it again", extra={"reason": repr(exc)[:300]})
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


def _apply(campaign: Campaign, job: Job, rows: list[Row]) -> tuple[Tally, str | None]:
    """What a chunk did, and the campaign's first day if the chunk moved it earlier."""
    errors = [{"line": row.line, "code": row.code, "message": row.message} for row in rows
              if isinstance(row, RowError)]
    pledge_rows = [row for row in rows if isinstance(row, PledgeRow)]
    total_rows = [row for row in rows if isinstance(row, TagTotalRow)]
    owners = _owners(campaign.id, [row.tag for row in pledge_rows if row.tag] + [row.tag for row in total_rows])
    outcome = _Outcome(errors)
    first_day = _apply_pledges(campaign, job, pledge_rows, owners, outcome) if pledge_rows else None
    for row in total_rows:
        _apply_total(campaign, job, row, owners.get(row.tag), outcome)
    return outcome.tally(), first_day


class _Outcome:
    """A chunk's tallies as its rows are applied."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors, self.applied, self.unchanged = errors, 0, 0
        self.pledges, self.amounts = 0, Counter[str]()

    def moved(self, pledges: int, amounts: dict[str, int]) -> None:
        self.applied += 1
        self.pledges += pledges
        self.amounts.update(amounts)

    def error(self, line: int, code: str, message: str) -> None:
        self.errors.append({"line": line, "code": code, "message": message})

    def tally(self) -> Tally:
        return Tally(self.applied, self.unchanged, tuple(sorted(self.errors, key=lambda e: e["line"])), self.pledges,
                     {currency: value for currency, value in sorted(self.amounts.items()) if value})


def _owners(campaign_id: str, tags: list[str]) -> dict[str, _Owner]:
    """Whose each tag is: the fan's link and channel, and the link's depth. The tags the
    campaign issued say (``store.tag_registry``); a fan's tag not issued yet (the stream
    issues it seconds after the fan signs up) is read back from the tag itself, when it
    names a link of this campaign."""
    if not tags:
        return {}
    named = tag_registry.owners(campaign_id, tags)
    for tag in set(tags) - set(named):
        parsed = platform_tags.parse(tag)
        if parsed is not None:
            named[tag] = parsed
    links = links_table.get_many(list({code for code, _ in named.values()}))
    return {tag: _Owner(code, channel, links[code].depth) for tag, (code, channel) in named.items()
            if code in links and links[code].campaign_id == campaign_id}


def _goal(campaign: Campaign, amount: int, currency: str) -> int:
    return amount if currency == campaign.goal_currency else 0


# pledges -----------------------------------------------------------------------------------

def _apply_pledges(campaign: Campaign, job: Job, rows: list[PledgeRow], owners: dict[str, _Owner],
                   outcome: _Outcome) -> str | None:
    stored = events_table.get_pledges(campaign.id, [f"{job.platform}:{row.pledge_id}" for row in rows])
    for row in rows:
        pledge_id = f"{job.platform}:{row.pledge_id}"
        token = f"import:{job.id}:{row.line}"
        found = stored.get(pledge_id)
        if found is None:
            owner = owners.get(row.tag) if row.tag else None
            pledge = Pledge(campaign_id=campaign.id, pledge_id=pledge_id, amount=row.amount, currency=row.currency,
                            status=row.status, occurred_at=row.occurred_at,
                            goal_amount=_goal(campaign, row.amount, row.currency),
                            channel=(owner.channel or UNCHANNELLED) if owner else "direct",
                            code=owner.code if owner else None, depth=owner.depth if owner else None,
                            request_token=token, source="import")
            if job.dry_run:
                _created(pledge, outcome)
                continue
            created, found = events_table.insert_pledge(pledge)
            if created:
                _created(found, outcome)
                continue
        _existing(campaign, job, row, found, token, outcome)
    earliest = min(row.occurred_at.date() for row in rows).isoformat()
    if job.dry_run or earliest >= (campaign.first_day or campaign.created_at.date().isoformat()):
        return None
    campaigns_table.note_first_day(campaign.id, earliest)
    return earliest


def _created(pledge: Pledge, outcome: _Outcome) -> None:
    confirmed = pledge.status == "confirmed"
    outcome.moved(1 if confirmed else 0, {pledge.currency: pledge.amount} if confirmed else {})


def _existing(campaign: Campaign, job: Job, row: PledgeRow, stored: Pledge, token: str, outcome: _Outcome) -> None:
    """A row whose pledge is stored: the same (unchanged, or applied by this import before a
    crash), ended by this row, or in conflict with it."""
    if (stored.amount, stored.currency) != (row.amount, row.currency):
        outcome.error(row.line, "pledge_conflict", f"Pledge {row.pledge_id[:60]} was imported with another amount "
                      "or currency: a pledge's amount cannot change (refund it and import a new one).")
        return
    if stored.status == "confirmed" and row.status != "confirmed":
        if not job.dry_run:
            events_table.end_pledge(campaign.id, stored.pledge_id, row.status, token)
        outcome.moved(-1, {row.currency: -row.amount})
        return
    if stored.request_token == token:
        _created(stored, outcome)
        return
    if stored.end_token == token:  # this row ended it before a crash: a refund, counted once
        outcome.moved(-1, {row.currency: -row.amount})
        return
    outcome.unchanged += 1


# tag totals --------------------------------------------------------------------------------

def _apply_total(campaign: Campaign, job: Job, row: TagTotalRow, owner: _Owner | None, outcome: _Outcome) -> None:
    if owner is None:
        outcome.error(row.line, "unknown_tag", f"No fan of this campaign has the tag {row.tag!r}.")
        return
    for _ in range(ATTEMPTS):
        prior = tag_totals.latest(campaign.id, row.tag)
        if prior is not None and (prior.pledges, prior.amount, prior.currency) == (row.pledges, row.amount,
                                                                                  row.currency):
            if prior.import_id == job.id:
                _moved_total(outcome, row, _previous_of(campaign.id, prior))
            else:
                outcome.unchanged += 1
            return
        new = tag_totals.TagTotal(row.tag, (prior.version if prior else 0) + 1, row.pledges, row.amount,
                                  row.currency, job.id)
        goal = _goal(campaign, row.amount, row.currency) - (_goal(campaign, prior.amount, prior.currency)
                                                             if prior else 0)
        if job.dry_run or tag_totals.record(campaign.id, new, prior, tag_totals.Attributed(
                owner.code, owner.channel, owner.depth), job.created_at.date().isoformat(), job.created_at, goal):
            _moved_total(outcome, row, prior)
            return
    raise RuntimeError(f"tag {row.tag} kept changing under import {job.id}")


def _previous_of(campaign_id: str, total: tag_totals.TagTotal) -> tag_totals.TagTotal | None:
    """What a total this import wrote (before a crash) replaced: for its tallies."""
    return tag_totals.version(campaign_id, total.tag, total.version - 1) if total.version > 1 else None


def _moved_total(outcome: _Outcome, row: TagTotalRow, prior: tag_totals.TagTotal | None) -> None:
    amounts = Counter({row.currency: row.amount})
    if prior is not None:
        amounts[prior.currency] -= prior.amount
    outcome.moved(row.pledges - (prior.pledges if prior else 0), dict(amounts))


def run_spool(directory: Path, stop: threading.Event, interval: float = 0.2, slice_seconds: float = 30.0,
              on_error: Callable[[Exception], None] | None = None) -> None:
    """``make dev``'s importer: run due spooled jobs until ``stop`` is set, each for at most
    ``slice_seconds`` before it is queued again (as the Lambda does near its timeout); jobs a
    previous run had taken are put back first."""
    import_queue.recover(directory)
    while not stop.is_set():
        taken = import_queue.take_due(directory, 1)
        for path, message in taken:
            deadline = time.monotonic() + slice_seconds
            try:
                def out_of_time(until: float = deadline) -> bool:
                    return stop.is_set() or time.monotonic() > until

                if not run(message.campaign_id, message.import_id, out_of_time):
                    import_queue.send(message)
            except Exception as exc:  # kept: the job resumes where it stands
                import_queue.send(message, RETRY_SECONDS)
                if on_error:
                    on_error(exc)
            import_queue.done(path)
        if not taken:
            stop.wait(interval)
