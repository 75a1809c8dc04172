"""Import jobs: one rollups item each, under ``<campaign>#imp``, keyed by a time-ordered id.

A job is created ``queued``; the importer marks it ``running`` with its row count, then
records each chunk of rows it applied with one update conditioned on the rows done so
far (:func:`advance`): two workers on one job (a queue message delivered twice, a worker
resumed after a crash while the first still ran) never both count a chunk, and the
tallies equal those of one clean run. A chunk's row errors are an item of their own, under
``<campaign>#impe`` (the first :data:`MAX_ERRORS` of the job; ``errors_count`` counts all):
DynamoDB bills an update by the whole item's size, so the job's item stays under 1 KB and
each progress write costs one unit. A job is kept :data:`KEPT_DAYS` days.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from chalicelib.store import clients, codec, keys

MAX_ERRORS = 1000
KEPT_DAYS = 90
LISTED = 100


@dataclass(frozen=True)
class Job:
    campaign_id: str
    id: str
    kind: str
    preset: str | None
    platform: str
    object_key: str
    dry_run: bool
    created_at: datetime
    status: str = "queued"  # queued | running | done | failed
    rows: int | None = None
    rows_done: int = 0
    applied: int = 0
    unchanged: int = 0
    errors: tuple[dict, ...] = ()
    errors_count: int = 0
    change_pledges: int = 0
    change_amounts: dict[str, int] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Tally:
    """What one chunk of rows did (or, in a dry run, would do)."""

    applied: int = 0
    unchanged: int = 0
    errors: tuple[dict, ...] = ()
    change_pledges: int = 0
    change_amounts: dict[str, int] = field(default_factory=dict)


def new_id(now: float | None = None) -> str:
    """Time-ordered (milliseconds, 11 hex digits) then random: the newest job sorts last."""
    return f"{int((now or time.time()) * 1000):011x}{secrets.token_hex(5)}"


def _key(campaign_id: str, job_id: str) -> dict:
    return {"pk": codec.s(keys.imports_pk(campaign_id)), "sk": codec.s(job_id)}


def _item(job: Job) -> dict:
    item = {**_key(job.campaign_id, job.id), "kind": codec.s(job.kind), "platform": codec.s(job.platform),
            "object_key": codec.s(job.object_key), "dry_run": {"BOOL": job.dry_run}, "status": codec.s(job.status),
            "created_at": codec.s(job.created_at.isoformat()), "rows_done": codec.n(job.rows_done),
            "expires_at": codec.n(int((job.created_at + timedelta(days=KEPT_DAYS)).timestamp()))}
    if job.preset:
        item["preset"] = codec.s(job.preset)
    return {**item, **_progress(job)}


def _progress(job: Job) -> dict:
    values = {"status": codec.s(job.status), "rows_done": codec.n(job.rows_done), "applied": codec.n(job.applied),
              "unchanged": codec.n(job.unchanged), "errors": codec.s(json.dumps(list(job.errors))),  # a failure's one
              "errors_count": codec.n(job.errors_count), "change_pledges": codec.n(job.change_pledges),
              "change_amounts": codec.s(json.dumps(job.change_amounts, sort_keys=True)),
              "updated_at": codec.s((job.updated_at or datetime.now(UTC)).isoformat())}
    if job.rows is not None:
        values["rows"] = codec.n(job.rows)
    return values


def _job(item: dict) -> Job:
    campaign_id = item["pk"]["S"].rpartition("#")[0]
    rows = item.get("rows")
    updated = codec.text(item.get("updated_at"))
    return Job(campaign_id=campaign_id, id=item["sk"]["S"], kind=item["kind"]["S"],
               preset=codec.text(item.get("preset")), platform=item["platform"]["S"],
               object_key=item["object_key"]["S"], dry_run=bool(item.get("dry_run", {}).get("BOOL")),
               created_at=datetime.fromisoformat(item["created_at"]["S"]), status=item["status"]["S"],
               rows=codec.number(rows) if rows else None, rows_done=codec.optional_number(item.get("rows_done")),
               applied=codec.optional_number(item.get("applied")),
               unchanged=codec.optional_number(item.get("unchanged")),
               errors=tuple(json.loads(codec.text(item.get("errors")) or "[]")),
               errors_count=codec.optional_number(item.get("errors_count")),
               change_pledges=codec.optional_number(item.get("change_pledges")),
               change_amounts=json.loads(codec.text(item.get("change_amounts")) or "{}"),
               updated_at=datetime.fromisoformat(updated) if updated else None)


def create(job: Job) -> None:
    """Store a new job (its id is new: a retried put finds its own item and changes nothing)."""
    try:
        clients.patient().put_item(TableName=clients.table("rollups"), Item=_item(job),
                                   ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise


def get(campaign_id: str, job_id: str) -> Job | None:
    response = clients.patient().get_item(TableName=clients.table("rollups"), Key=_key(campaign_id, job_id),
                                          ConsistentRead=True)
    return _job(response["Item"]) if "Item" in response else None


def recent(campaign_id: str, limit: int = LISTED) -> list[Job]:
    """The campaign's last ``limit`` jobs, newest first."""
    response = clients.patient().query(
        TableName=clients.table("rollups"), ScanIndexForward=False, Limit=limit,
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": codec.s(keys.imports_pk(campaign_id))})
    return [_job(item) for item in response.get("Items", [])]


def _write(job: Job, condition: str, values: dict) -> bool:
    """Write ``job``'s progress if ``condition`` holds; ``False`` when it no longer does."""
    progress = _progress(job)
    names = {f"#p{i}": name for i, name in enumerate(progress)}
    typed = {f":p{i}": value for i, value in enumerate(progress.values())}
    try:
        clients.patient().update_item(
            TableName=clients.table("rollups"), Key=_key(job.campaign_id, job.id),
            UpdateExpression="SET " + ", ".join(f"#p{i} = :p{i}" for i in range(len(progress))),
            ConditionExpression=condition, ExpressionAttributeNames={
                **names, "#status": "status", **({"#done": "rows_done"} if "#done" in condition else {})},
            ExpressionAttributeValues={**typed, **values})
        return True
    except Exception as exc:
        if clients.error_code(exc) != "ConditionalCheckFailedException":
            raise
    return False


def begin(job: Job, rows: int) -> Job:
    """``queued`` → ``running`` with the file's row count (again if already running: a resume)."""
    running = replace(job, status="running", rows=rows, updated_at=datetime.now(UTC))
    if job.status == "queued":
        _write(running, "#status = :queued", {":queued": codec.s("queued")})
    return get(job.campaign_id, job.id) or running


def _errors_key(job: Job, first_row: int) -> dict:
    return {"pk": codec.s(keys.import_errors_pk(job.campaign_id)), "sk": codec.s(f"{job.id}#{first_row:09d}")}


def errors_of(job: Job) -> tuple[dict, ...]:
    """The job's row errors kept (the first :data:`MAX_ERRORS`), after a failure's own."""
    found: list[dict] = list(job.errors)
    kwargs: dict = {"TableName": clients.table("rollups"), "ConsistentRead": True,
                    "KeyConditionExpression": "pk = :pk AND begins_with(sk, :job)",
                    "ExpressionAttributeValues": {":pk": codec.s(keys.import_errors_pk(job.campaign_id)),
                                                  ":job": codec.s(f"{job.id}#")}}
    while len(found) < MAX_ERRORS:
        page = clients.patient().query(**kwargs)
        for item in page.get("Items", []):
            found.extend(json.loads(codec.text(item.get("errors")) or "[]"))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return tuple(found[:MAX_ERRORS])


def advance(job: Job, rows_done: int, tally: Tally) -> bool:
    """Count one chunk: the rows from ``job.rows_done`` to ``rows_done`` and what they did;
    the last chunk marks the job ``done``. ``False`` when another worker counted it first.

    The chunk's row errors are put first, under a key of the chunk: a worker that counts the
    same chunk puts the same item, so a refused progress write leaves nothing extra."""
    kept = tally.errors[:max(0, MAX_ERRORS - job.errors_count)]
    if kept:
        clients.patient().put_item(TableName=clients.table("rollups"), Item={
            **_errors_key(job, job.rows_done), "errors": codec.s(json.dumps(list(kept))),
            "expires_at": codec.n(int((job.created_at + timedelta(days=KEPT_DAYS)).timestamp()))})
    amounts = dict(job.change_amounts)
    for currency, value in tally.change_amounts.items():
        amounts[currency] = amounts.get(currency, 0) + value
    finished = job.rows is not None and rows_done >= job.rows
    moved = replace(job, rows_done=rows_done, applied=job.applied + tally.applied,
                    unchanged=job.unchanged + tally.unchanged,
                    errors_count=job.errors_count + len(tally.errors),
                    change_pledges=job.change_pledges + tally.change_pledges,
                    change_amounts={c: v for c, v in sorted(amounts.items()) if v},
                    status="done" if finished else job.status, updated_at=datetime.now(UTC))
    return _write(moved, "#status = :running AND #done = :done",
                  {":running": codec.s("running"), ":done": codec.n(job.rows_done)})


def fail(job: Job, code: str, message: str) -> None:
    """The job cannot go on: ``failed`` with this one error. Before its first chunk, nothing
    was applied; after (the file expired under a job resumed late), the chunks recorded
    stay applied, and the same file sent again completes it."""
    failed = replace(job, status="failed", errors=({"line": 1, "code": code, "message": message},), errors_count=1,
                     updated_at=datetime.now(UTC))
    _write(failed, "#status IN (:queued, :running)", {":queued": codec.s("queued"), ":running": codec.s("running")})
