"""The files being imported, in the import bucket (S3; under ``make dev`` the local S3 server).

A body sent with the request is put under ``imports/<campaign>/<import>.csv``; a larger
file is uploaded by the creator straight to ``uploads/<campaign>/<upload>.csv`` through a
presigned PUT. The bucket expires every object after a day (``infra/stack.py``): a file is
kept while its import runs, never longer.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.core import config
from chalicelib.store import clients

UPLOAD_SECONDS = 900
"""How long a presigned upload URL is valid."""


class FileMissing(Exception):
    """No such object: an upload never made, or a file expired."""


def _bucket() -> str:
    bucket = config.import_bucket()
    if not bucket:
        raise config.ConfigError("RELAIS_IMPORT_BUCKET is not set: imports need a bucket")
    return bucket


def import_key(campaign_id: str, import_id: str) -> str:
    return f"imports/{campaign_id}/{import_id}.csv"


def upload_key(campaign_id: str, upload_id: str) -> str:
    return f"uploads/{campaign_id}/{upload_id}.csv"


def put(key: str, body: bytes) -> None:
    clients.s3().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType="text/csv")


def upload_url(key: str) -> tuple[str, datetime]:
    """A presigned PUT URL of ``key`` and when it expires."""
    url = clients.s3().generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key, "ContentType": "text/csv"}, ExpiresIn=UPLOAD_SECONDS)
    return url, datetime.now(UTC) + timedelta(seconds=UPLOAD_SECONDS)


def size(key: str) -> int | None:
    """The object's size in bytes, or ``None`` when there is none."""
    try:
        return int(clients.s3().head_object(Bucket=_bucket(), Key=key)["ContentLength"])
    except Exception as exc:
        if clients.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read(key: str) -> bytes:
    """The whole file (at most 100 MB: the importer's memory is sized for it)."""
    try:
        return clients.s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
    except Exception as exc:
        if clients.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            raise FileMissing(key) from exc
        raise
