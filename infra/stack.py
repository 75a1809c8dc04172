"""The Relais stack: four tables, the Chalice app with one role per function, the stream
aggregator's wiring, the request path's fallback queue, stage throttling, alarms and outputs.

Shape of the decisions (``docs/deploy.md`` and ``docs/runbook.md`` have the operator's view):

- Tables come from the PynamoDB models (:mod:`chalicelib.store.schema`); data tables are retained
  and deletion-protected. Point-in-time recovery is per table, as
  :data:`chalicelib.core.retention.POINT_IN_TIME_RECOVERY_DAYS` decides and ``docs/privacy.md``
  says: on (35 days) for campaigns and events, which nothing could rebuild; off for links and
  rollups, whose fans' names, e-mails and daily salts must not outlive an erasure or their day.
- ``chalice package`` runs inside ``chalice.cdk.Chalice``. ``autogen_policy`` is off, so the
  stack hands Chalice its own roles and grants each one only what its function does.
- The aggregator is the only path from events to counters: a poison record must neither
  stop it (bisect, bounded retries and record age) nor vanish (on-failure queue + alarm).
- The request path makes one synchronous write with a short budget; when it fails, the fact
  goes to an SQS queue that the ``Fallback`` function applies later with the same idempotent
  write (a DLQ and alarms catch what it cannot apply). Nothing acknowledged is lost
  unless both fail (``LostEvents``).
- Outbound webhooks leave from the stream, never the request path: the aggregator queues
  each delivery on an SQS queue that the ``Dispatcher`` function consumes, sending the next
  attempt itself with a per-message delay (the backoff); a DLQ and alarms catch the rest.
- Fans' e-mails leave from the mail queue, never the request path: the API (a recovery) and
  the aggregator (a reward unlock) queue jobs that the ``Mailer`` function sends through SES
  (the stage's identity and configuration set, ``mailFrom``); the configuration set's
  bounces and complaints reach ``MailFeedback`` through SNS, which suppresses the address.
- Platform exports are imported off the request path: the API puts a small file in the
  import bucket (or signs a PUT for the creator's browser to upload a large one) and queues
  the job; the ``Importer`` function reads the file and applies it a chunk at a time,
  queueing the rest of the job itself. Only the API writes files, and the bucket's
  lifecycle rule deletes every file a day after it was written.
- Every DynamoDB grant is an explicit action list on named tables and indexes (the
  ``*_TABLE_ACTIONS`` maps below): no ``grant_read_write_data``, no action on ``*``.
- The front is an HTTP API (payload 1.0, every Chalice route) plus a CloudFront host for
  what can be cached (:mod:`infra.front`); Chalice's own REST API is dropped from its
  template. Every function runs on arm64, and ``chalice package`` builds for it.
"""
from __future__ import annotations

import compileall
import contextlib
import importlib
import os
import py_compile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.core.retention import POINT_IN_TIME_RECOVERY_DAYS
from chalicelib.hotpath.rate_limits import FAN_CEILING_METRIC
from chalicelib.store.keys import EMAIL_CLAIM_PREFIX, mail_pk
from chalicelib.store.schema import ALL_MODELS
from chalicelib.store.specs import IndexSpec, KeyAttribute, TableSpec, table_spec
from infra.front import HTTP_API_STAGE, Front, chalice_routes
from infra.settings import SettingsError, StageSettings

API_FUNCTION = "APIHandler"
AGGREGATOR_FUNCTION = "Aggregator"
FALLBACK_FUNCTION = "Fallback"
"""``@app.lambda_function(name="fallback")`` in app.py: Chalice names its resource like this."""
DISPATCHER_FUNCTION = "Dispatcher"
"""``@app.lambda_function(name="dispatcher")``: attempts webhook deliveries from the webhook queue."""
MAILER_FUNCTION = "Mailer"
"""``@app.lambda_function(name="mailer")``: sends the e-mails of the mail queue."""
MAIL_FEEDBACK_FUNCTION = "MailFeedback"
"""``@app.lambda_function(name="mail_feedback")``: SES bounces and complaints, through SNS."""
IMPORTER_FUNCTION = "Importer"
"""``@app.lambda_function(name="importer")``: applies platform exports (the import queue's jobs)."""
CHALICE_REST_API = ("RestAPI", "APIHandlerInvokePermission")
CHALICE_REST_API_OUTPUTS = ("RestAPIId", "EndpointURL")
"""What ``chalice package`` generates for its REST API (resources, outputs): replaced by the front."""
LAMBDA_ARCHITECTURE = "arm64"
"""About 20 % less per GB-second than x86_64; every dependency is pure Python but
charset-normalizer (through stripe and requests), of which Chalice fetches the aarch64 wheel."""
SKIPPED_RECORDS_METRIC = "SkippedEvents"
"""What ``chalicelib.aggregate.counting`` counts when it skips a record it cannot read (a poison record)."""
LOST_EVENTS_METRIC = "LostEvents"
"""What ``chalicelib.hotpath.tracking`` counts when a fact was neither written nor sent to the fallback queue."""
MAIL_GIVEN_UP_METRIC = "MailGivenUp"
"""What ``chalicelib.outbound.mailer`` counts when a message failed its last try."""
METRICS_SERVICE = "relais"
"""The ``service`` dimension ``chalicelib.core.observability`` puts on every metric."""

API_TIMEOUT_SECONDS = 10
"""Far below API Gateway's 29 s: a redirect that cannot answer in 10 s should fail fast."""
AGGREGATOR_TIMEOUT_SECONDS = 120
"""One batch of 500 records costs a few hundred conditional writes at most; 120 s leaves
room for DynamoDB throttling back-off without letting a stuck batch hold its shard for long."""

FALLBACK_TIMEOUT_SECONDS = 30
"""Ten idempotent writes with the patient client's retries fit many times over."""
FALLBACK_VISIBILITY_TIMEOUT = cdk.Duration.seconds(6 * FALLBACK_TIMEOUT_SECONDS)
"""AWS's rule for a queue feeding Lambda: at least six times the function's timeout, so a
message being processed (or retried by the poller) is not handed to a second invocation."""
FALLBACK_BATCH_SIZE = 10
FALLBACK_MAX_RECEIVES = 5
"""Deliveries before a fact moves to the dead-letter queue: 5 × 3 min of DynamoDB trouble."""
FALLBACK_MAX_CONCURRENCY = 5
"""The backlog drains at a bounded rate instead of competing with the request path for a
throttled table; the queue keeps facts for 14 days, and an alarm watches their age."""
FALLBACK_QUEUE_AGE_ALARM = cdk.Duration.minutes(15)
DISPATCHER_TIMEOUT_SECONDS = 60
"""A batch of ten deliveries side by side, each within its own 10 s budget, with room to spare."""
WEBHOOK_VISIBILITY_TIMEOUT = cdk.Duration.seconds(6 * DISPATCHER_TIMEOUT_SECONDS)
WEBHOOK_BATCH_SIZE = 10
WEBHOOK_MAX_RECEIVES = 5
"""A message the dispatcher crashed on five times goes to the dead-letter queue (a delivery
that merely fails is not a crash: it is retried by a new, delayed message)."""
WEBHOOK_MAX_CONCURRENCY = 10
"""Dispatcher invocations at a time, all campaigns together (per campaign: send slots)."""
WEBHOOK_QUEUE_AGE_ALARM = cdk.Duration.minutes(30)
"""A message is re-sent at least every 15 minutes (SQS's longest delay): older means stuck."""
MAILER_TIMEOUT_SECONDS = 120
"""A batch's messages are sent one after the other; an SES call that stalls takes at most
3 tries of 2 + 10 s (``store.clients.SES_BUDGET``): three of them fit, with the DynamoDB
reads and writes around each send."""
MAIL_FEEDBACK_TIMEOUT_SECONDS = 30
MAIL_VISIBILITY_TIMEOUT = cdk.Duration.seconds(6 * MAILER_TIMEOUT_SECONDS)
MAIL_BATCH_SIZE = 3
MAIL_MAX_RECEIVES = 5
"""A job the mailer crashed on five times goes to the dead-letter queue (a send that merely
fails is not a crash: it is queued again, delayed, by the mailer itself)."""
MAIL_MAX_CONCURRENCY = 2
"""Mailer invocations at a time: about 10 messages a second, within a new SES account's
14 a second, so that a burst of unlocks is paced by the queue rather than throttled."""
MAIL_QUEUE_AGE_ALARM = cdk.Duration.minutes(30)
"""A job is re-queued at most 15 minutes later (SQS's longest delay): older means stuck."""
IMPORTER_TIMEOUT_SECONDS = 900
"""Lambda's longest. An invocation stops between two chunks a minute short of it and queues the
rest of the job as a new message: a job of any size is a chain of invocations, and one cut
off by the timeout (or a crash) is taken up again after its last recorded chunk."""
IMPORT_VISIBILITY_TIMEOUT = cdk.Duration.seconds(IMPORTER_TIMEOUT_SECONDS + 60)
"""Longer than a chunk can run, so a job being applied is not handed to a second invocation.
Not six times the timeout, AWS's advice kept for the other queues (room for the poller to
retry a throttled invocation): that would be 90 minutes before a crashed chunk is tried
again. The poller never invokes above the mapping's maximum concurrency, so only an account
out of concurrency can throttle the importer; each such hold-up costs a receive, and a job
held up five times waits in the dead-letter queue, from which it is redriven as it is."""
IMPORT_BATCH_SIZE = 1
"""One job per invocation: it works on its job until a minute before the timeout, so a second
job in the same batch would wait behind it and share what is left."""
IMPORT_MAX_RECEIVES = 5
"""A job (chunk) the importer crashed on five times goes to the dead-letter queue; a row it
cannot read is not a crash but an error in the job's status."""
IMPORT_MAX_CONCURRENCY = 2
"""Importer invocations at a time, all campaigns together (SQS's lowest setting): an import is
thousands of conditional writes, and two at a time leave the tables' throughput to the
request path and the aggregator; a job waits its turn on the queue."""
IMPORT_QUEUE_AGE_ALARM = cdk.Duration.hours(1)
"""Each invocation queues the rest of its job as a new message: an hour-old message means
imports are stuck, or more than four 15-minute rounds of the two workers are queued ahead."""
IMPORT_FILE_LIFETIME = cdk.Duration.days(1)
"""Exports list backers (names, e-mails on some platforms): kept only while imported. S3
deletes an object the first midnight (UTC) a day after it was written, at the latest about
a day later again; a job that has not read its file by then fails."""
UPLOADS_PREFIX = "uploads/"
IMPORT_FILE_PREFIXES = ("imports/", UPLOADS_PREFIX)
"""``imports/<campaign>/<import>.csv``: a file sent in the request body, put by the API;
``uploads/<campaign>/<upload>.csv``: a large file the creator's browser PUTs through a URL
the API signed (15 minutes, up to 100 MB)."""
IMPORT_UPLOAD_HEADERS = ("Content-Type",)
"""What the dashboard's upload may send beside the signed URL (the browser's preflight asks)."""
IMPORT_UPLOAD_PREFLIGHT_MAX_AGE = 3600
"""Seconds a browser may keep the bucket's preflight answer."""
QUEUE_RETENTION = cdk.Duration.days(14)
"""SQS's maximum. A standard queue's message keeps its first enqueue time in the DLQ."""
QUEUE_CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                          "sqs:ChangeMessageVisibility")
"""What Lambda's poller does with the consumer's role, on its queue only (``SqsEventSource`` is not
used: it grants ``sqs:GetQueueUrl`` too, which nothing needs: the URLs are in the environment)."""

# What each function may do on each table: exact action lists, nothing on ``*``.
# The request path (redirect, beacons, landing, referrers, pledges, Stripe, stats, widget):
API_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "campaigns": ("GetItem", "PutItem", "UpdateItem"),
    # A referrer is one TransactWriteItems: the link and its e-mail claim (conditional Puts
    # here) and the new-referrer fact (a Put on events). IAM authorizes each item by its
    # action: PutItem, and ConditionCheckItem for a check on a link the transaction does
    # not write.
    # Fans' data: the creator's fan list reads links in batches (BatchGetItem). Moderating or
    # erasing a fan updates only what changes on their link (UpdateItem, in a transaction; an
    # unsubscribe too); erasing deletes their e-mail claim: DeleteItem, granted apart, on claim
    # keys only (CLAIM_DELETE).
    "links": ("GetItem", "PutItem", "UpdateItem", "ConditionCheckItem", "BatchGetItem"),
    # Query: a fan's export lists the pledges attributed to them.
    "events": ("GetItem", "PutItem", "UpdateItem", "Query"),
    # UpdateItem: a creator's webhook retry re-arms a delivery; a reward marked fulfilled; a
    # visitor's rate-limit counter. PutItem: the day's random visitor salt, drawn once.
    "rollups": ("GetItem", "Query", "BatchGetItem", "UpdateItem", "PutItem"),
}
CLAIM_DELETE_CONDITION = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{EMAIL_CLAIM_PREFIX}*"]}}
"""The API role's one delete: an erased fan's e-mail claim (``DeleteItem`` in the erasure's
transaction), on the links table, for partition keys that are claims (``@<campaign>:…``) —
never a link, whose code is base62."""
API_INDEX_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("rollups", "leaderboard"): ("Query",),
}
AGGREGATOR_INDEX_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("rollups", "leaderboard"): ("Query",),  # the leaderboard item is rebuilt from the index
}
AGGREGATOR_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    # ConditionCheckItem: a fan's reward changes in a transaction that checks their pledge count.
    "rollups": ("GetItem", "UpdateItem", "PutItem", "Query", "BatchGetItem", "ConditionCheckItem"),
    "campaigns": ("GetItem",),  # a batch with pledges reads its campaign's webhook, milestones and rewards
    # Platform tags (store.tag_registry): a transaction of Updates (the fan's link gains its
    # tags, each tag's item names the fan); switched on later, the fans' links are read first.
    "links": ("BatchGetItem", "UpdateItem"),
}
DISPATCHER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "rollups": ("GetItem", "UpdateItem"),  # a delivery, its lease and outcome; the campaign's send slots
    "campaigns": ("GetItem",),  # the webhook URL and signing secret, at send time
}
FALLBACK_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "events": ("PutItem", "UpdateItem"),  # a fact of its own; a known visitor's visit joins their item
}
MAILER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "campaigns": ("GetItem",),  # the campaign's e-mail setting, name, language, rewards
    "links": ("GetItem",),  # the fan's link (sealed e-mail, notify) and an e-mail's claim
}
MAIL_RECORDS_PARTITIONS = mail_pk("*")
"""The rollups partitions of the e-mail bookkeeping (``store.mail_records``): ``<campaign>#ml``."""
MAIL_RECORDS_CONDITION = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [MAIL_RECORDS_PARTITIONS]}}
MAILER_RECORDS_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
"""On the rollups table, its e-mail partitions only: is it suppressed (Get), the recovery gate and
the send lease (conditional Puts), sent (Update), a failed send's lease given back (Delete)."""
MAIL_FEEDBACK_RECORDS_ACTIONS = ("PutItem",)
"""A suppressed address (``mail_records.suppress``), in the e-mail partitions only."""
IMPORTER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    # Pledges ``<platform>:<pledge_id>``: a chunk's read in one batch, new ones put (a conflict
    # read back), ended ones updated; a tag's totals (``store.tag_totals``): the latest
    # (Query), a version (GetItem), a new one (a conditional Put).
    "events": ("GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"),
    # The job (``<campaign>#imp``, created by the API): read, its progress and end updated;
    # a chunk's row errors put (``<campaign>#impe``).
    "rollups": ("GetItem", "PutItem", "UpdateItem"),
    "links": ("BatchGetItem",),  # a chunk's tags (``store.tag_registry``), then their fans' links
    # The campaign's platform and goal currency; its first day when an import holds pledges
    # made before the campaign was created (``campaigns_table.note_first_day``).
    "campaigns": ("GetItem", "UpdateItem"),
}
"""No server secret: an import seals, signs and digests nothing (tags are derived from link
codes, not keyed), unlike the functions :meth:`RelaisStack._grant_server_secret` serves."""
SES_SEND_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
"""SES v2's ``SendEmail`` with raw content; IAM may check either name (CDK's own grant has both)."""
RECOUNT_OPERATOR_ACTIONS: dict[str, tuple[str, ...]] = {
    "events": ("Query", "PutItem"),
    "rollups": ("Query", "GetItem", "UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem"),
}
"""``make recount`` runs with an operator's own credentials; no role of the stack gets
these. ``docs/runbook.md`` lists them for the operator's policy."""

STREAM_BATCH_SIZE = 500
STREAM_BATCHING_WINDOW = cdk.Duration.seconds(5)
STREAM_RETRY_ATTEMPTS = 10
STREAM_PARALLELIZATION = 4
"""Concurrent batches per shard, split by partition key: a lane's records still arrive in
order, in one batch at a time, which is all the aggregator's exactness needs. One batch at a
time gets through about 500 records/s (``make bench``: ~0.39 DynamoDB calls per record at
~5 ms each); a busy partition's shard carries up to 1,000 writes/s, so four keep ahead."""
STREAM_MAX_RECORD_AGE = cdk.Duration.hours(6)
"""Well inside the 24 h stream retention: a skipped batch's shard and sequence range land on
the failure queue while the records can still be read back from the stream."""

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def _optional_attribute(key: KeyAttribute | None) -> dynamodb.Attribute | None:
    return _attribute(key) if key else None


def compile_app_modules(source_dir: str) -> None:
    """Compile ``chalicelib/`` into its ``__pycache__`` folders, which ``chalice package``
    ships with every other file under ``chalicelib/``.

    Lambda's code folder is read-only: a module shipped without bytecode is compiled at
    every cold start (``make bench``: the redirect's cold start goes from ~1.1 to ~1.4 ×
    the bare botocore write). The bytecode is checked-hash: Python validates it against
    the source's hash rather than its modification time, which a zip keeps only to the
    nearest 2 s; it is used on Lambda and can never stand in for an edited source locally.
    ``force``: a timestamp-based file left by a local run is replaced, not kept.
    """
    compileall.compile_dir(str(Path(source_dir) / "chalicelib"), quiet=1, force=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)


@contextlib.contextmanager
def _chalice_packaging_environment(region: str) -> Iterator[None]:
    """Run ``chalice package`` without letting it change this process's environment.

    Chalice copies the functions' environment variables (here: CDK token strings) into
    ``os.environ`` before importing ``app``, and builds a botocore client that needs a
    region name (only to pick the endpoint suffix: nothing is sent). Restoring the
    environment keeps other code in the same process (a pytest session with the unit
    tier, for one) from inheriting ``RELAIS_*`` values it never set.
    """
    saved = dict(os.environ)
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class RelaisStack(cdk.Stack):
    """One Relais stage.

    The construct id must be the stage name: ``chalice.cdk.Chalice`` uses its scope's path
    as the Chalice stage, which is how ``.chalice/config.json``'s ``stages.<stage>`` applies.
    Create it with :func:`create_stack` rather than directly.
    """

    def __init__(self, scope: Construct, settings: StageSettings, *, source_dir: str, **kwargs: Any) -> None:
        super().__init__(scope, settings.stage, **kwargs)
        self.settings = settings
        region = None if cdk.Token.is_unresolved(self.region) else self.region
        if settings.mail_region and region and settings.mail_region != region:
            raise SettingsError(f"mailRegion is {settings.mail_region} but the stage deploys to {region}: SES "
                                "identities and production access are per region (docs/email.md)")

        self.tables = {base: self._table(base, table_spec(model)) for base, model in ALL_MODELS.items()}
        self.api_role = self._function_role("ApiRole", "the API handler (routes in app.py)")
        self.aggregator_role = self._function_role("AggregatorRole", "the events-stream aggregator")
        self.fallback_role = self._function_role("FallbackRole", "the fallback-queue consumer")
        self.dispatcher_role = self._function_role("DispatcherRole", "the webhook dispatcher")
        self.mailer_role = self._function_role("MailerRole", "the mailer (the mail queue's consumer)")
        self.mail_feedback_role = self._function_role("MailFeedbackRole", "SES bounces and complaints")
        self.importer_role = self._function_role("ImporterRole", "the importer (the import queue's consumer)")
        self.api_log_group = self._log_group("ApiLogs", f"/aws/lambda/relais-{settings.stage}-api", self.api_role)
        self.aggregator_log_group = self._log_group(
            "AggregatorLogs", f"/aws/lambda/relais-{settings.stage}-aggregator", self.aggregator_role)
        self.fallback_log_group = self._log_group(
            "FallbackLogs", f"/aws/lambda/relais-{settings.stage}-fallback", self.fallback_role)
        self.dispatcher_log_group = self._log_group(
            "DispatcherLogs", f"/aws/lambda/relais-{settings.stage}-dispatcher", self.dispatcher_role)
        self.mailer_log_group = self._log_group(
            "MailerLogs", f"/aws/lambda/relais-{settings.stage}-mailer", self.mailer_role)
        self.mail_feedback_log_group = self._log_group(
            "MailFeedbackLogs", f"/aws/lambda/relais-{settings.stage}-mail-feedback", self.mail_feedback_role)
        self.importer_log_group = self._log_group(
            "ImporterLogs", f"/aws/lambda/relais-{settings.stage}-importer", self.importer_role)

        self.chalice = self._chalice_app(source_dir)
        self._configure_function(API_FUNCTION, self.api_role, settings.api_memory_mb,
                                 API_TIMEOUT_SECONDS, self.api_log_group)
        self._configure_function(AGGREGATOR_FUNCTION, self.aggregator_role, settings.aggregator_memory_mb,
                                 AGGREGATOR_TIMEOUT_SECONDS, self.aggregator_log_group)
        self._configure_function(FALLBACK_FUNCTION, self.fallback_role, settings.fallback_memory_mb,
                                 FALLBACK_TIMEOUT_SECONDS, self.fallback_log_group)
        self._configure_function(DISPATCHER_FUNCTION, self.dispatcher_role, settings.dispatcher_memory_mb,
                                 DISPATCHER_TIMEOUT_SECONDS, self.dispatcher_log_group)
        self._configure_function(MAILER_FUNCTION, self.mailer_role, settings.mailer_memory_mb,
                                 MAILER_TIMEOUT_SECONDS, self.mailer_log_group)
        self._configure_function(MAIL_FEEDBACK_FUNCTION, self.mail_feedback_role, settings.mailer_memory_mb,
                                 MAIL_FEEDBACK_TIMEOUT_SECONDS, self.mail_feedback_log_group)
        self._configure_function(IMPORTER_FUNCTION, self.importer_role, settings.importer_memory_mb,
                                 IMPORTER_TIMEOUT_SECONDS, self.importer_log_group)
        self._drop_chalice_rest_api()
        self.front = Front(self, "Front", settings=settings, api_name=self.api_name,
                           handler_arn=self.chalice.get_resource(API_FUNCTION).get_att("Arn").to_string(),
                           routes=self.routes)
        self.chalice.get_resource(API_FUNCTION).add_property_override(
            "Environment.Variables.RELAIS_ASSETS_URL", self.front.assets_url)

        self.fallback_dead_letters, self.fallback_queue = self._wire_fallback()
        self._grant_api_handler()
        self.failure_queue = self._wire_aggregator()
        self.webhook_dead_letters, self.webhook_queue = self._wire_webhooks()
        self.mail_dead_letters, self.mail_queue = self._wire_mailer()
        self.import_bucket = self._import_bucket()
        self.import_dead_letters, self.import_queue = self._wire_importer()
        self.mail_configuration_set: ses.ConfigurationSet | None = None
        self.mail_identity: ses.EmailIdentity | None = None
        self.mail_feedback_topic: sns.Topic | None = None
        if settings.sends_mail:
            self._wire_ses()

        self.alarm_topic = sns.Topic(self, "Alarms", display_name=f"Relais {settings.stage} alarms")
        if settings.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.alarms = self._alarms()
        self._outputs()

    # Tables -------------------------------------------------------------------------

    def _table(self, base: str, spec: TableSpec) -> dynamodb.Table:
        recovery_days = POINT_IN_TIME_RECOVERY_DAYS[base]
        table = dynamodb.Table(
            self,
            f"{base.capitalize()}Table",
            table_name=f"{self.settings.table_prefix}{base}",
            partition_key=_attribute(spec.partition_key),
            sort_key=_optional_attribute(spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=recovery_days is not None, recovery_period_in_days=recovery_days),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            stream=dynamodb.StreamViewType(spec.stream_view_type) if spec.stream_view_type else None,
            time_to_live_attribute=spec.ttl_attribute,
            warm_throughput=self._warm_throughput(base),
        )
        for index in spec.indexes:
            self._add_index(table, index)
        return table

    def _warm_throughput(self, base: str) -> dynamodb.WarmThroughput | None:
        """Pre-warmed writes for the tables a viral burst writes to: events (one per request)
        and rollups (the aggregator's unique-visitor markers and counters)."""
        writes = self.settings.warm_writes_per_second
        if not writes or base not in ("events", "rollups"):
            return None
        return dynamodb.WarmThroughput(write_units_per_second=writes)

    @staticmethod
    def _add_index(table: dynamodb.Table, index: IndexSpec) -> None:
        non_key = list(index.non_key_attributes) or None
        if index.is_global:
            table.add_global_secondary_index(
                index_name=index.name, partition_key=_attribute(index.partition_key),
                sort_key=_optional_attribute(index.sort_key), projection_type=_PROJECTIONS[index.projection],
                non_key_attributes=non_key)
        elif index.sort_key is not None:  # chalicelib.store.specs refuses a local index without one
            table.add_local_secondary_index(
                index_name=index.name, sort_key=_attribute(index.sort_key),
                projection_type=_PROJECTIONS[index.projection], non_key_attributes=non_key)

    # Functions ----------------------------------------------------------------------

    def _function_role(self, construct_id: str, purpose: str) -> iam.Role:
        """A role with no managed policies: logs, tables and secrets are granted one by one."""
        return iam.Role(self, construct_id, description=f"Relais {self.settings.stage}: {purpose}",
                        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    def _log_group(self, construct_id: str, name: str, writer: iam.Role) -> logs.CfnLogGroup:
        """An explicit log group with retention; the function writes to it and nowhere else.

        Chalice can emit log groups itself (``log_retention_in_days``), but 1.34 names the
        API handler's one after a resource that does not exist in its own template.
        """
        group = logs.CfnLogGroup(self, construct_id, log_group_name=name,
                                 retention_in_days=self.settings.log_retention_days)
        writer.add_to_principal_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[group.attr_arn]))
        return group

    def _environment(self) -> dict[str, str]:
        """What ``chalicelib.core.config`` reads in a deployed stage. Secrets travel by name only.

        ``RELAIS_SECRETS_VERSION`` is read by nobody: containers cache SSM values for their
        lifetime, and changing this value is what replaces every container after a rotation.
        """
        environment = {
            "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace,
            "RELAIS_STAGE": self.settings.stage,
            "RELAIS_ADMIN_TOKEN_PARAM": self.settings.admin_token_param,
            "RELAIS_SECRET_PARAM": self.settings.secret_param,
            "RELAIS_ORIGIN_SECRET_PARAM": self.settings.origin_secret_param,
            "RELAIS_SECRETS_VERSION": self.settings.secrets_version,
            **{f"RELAIS_TABLE_{base.upper()}": table.table_name for base, table in self.tables.items()},
        }
        if self.settings.effective_public_url:
            environment["RELAIS_PUBLIC_URL"] = self.settings.effective_public_url
        return environment

    def _chalice_app(self, source_dir: str) -> Chalice:
        stage_config: dict[str, Any] = {
            "lambda_architecture": LAMBDA_ARCHITECTURE,
            "manage_iam_role": False,
            "iam_role_arn": self.api_role.role_arn,
            "environment_variables": self._environment(),
        }
        region = self.region if not cdk.Token.is_unresolved(self.region) else "us-east-1"
        compile_app_modules(source_dir)
        with _chalice_packaging_environment(region):
            chalice = Chalice(self, "RelaisApp", source_dir=source_dir, stage_config=stage_config)
            # Packaging imported the app (importlib, from source_dir): its route table is
            # what the HTTP API declares, route for route.
            self.routes = chalice_routes(importlib.import_module("app").app.routes)
        return chalice

    def _configure_function(self, name: str, role: iam.Role, memory_mb: int, timeout_seconds: int,
                            log_group: logs.CfnLogGroup) -> None:
        """Per-function settings Chalice only takes from ``.chalice/config.json``, not from the stack."""
        function = self.chalice.get_resource(name)
        function.add_property_override("Role", role.role_arn)
        function.add_property_override("MemorySize", memory_mb)
        function.add_property_override("Timeout", timeout_seconds)
        function.add_property_override("LoggingConfig", {"LogGroup": log_group.ref})

    def _drop_chalice_rest_api(self) -> None:
        """``chalice package`` always emits a REST API for the routes: the front replaces it."""
        included = self.chalice.sam_template.node
        outputs = included.find_child("$Outputs").node
        for parent, logical_ids in ((included, CHALICE_REST_API), (outputs, CHALICE_REST_API_OUTPUTS)):
            for logical_id in logical_ids:
                if not parent.try_remove_child(logical_id):
                    raise RuntimeError(f"chalice package no longer emits {logical_id}: review infra.front")

    @property
    def api_name(self) -> str:
        return f"relais-{self.settings.stage}"

    @property
    def metrics_namespace(self) -> str:
        """One namespace per stage, so a staging stack in the same account cannot trip prod's alarms."""
        return f"Relais/{self.settings.stage}"

    # Permissions --------------------------------------------------------------------

    def _grant_tables(self, role: iam.Role, table_actions: dict[str, tuple[str, ...]],
                      index_actions: dict[tuple[str, str], tuple[str, ...]] | None = None) -> None:
        """One statement per table (and per named index): exactly the listed actions."""
        for base, actions in table_actions.items():
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=[f"dynamodb:{action}" for action in actions], resources=[self.tables[base].table_arn]))
        for (base, index), actions in (index_actions or {}).items():
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=[f"dynamodb:{action}" for action in actions],
                resources=[f"{self.tables[base].table_arn}/index/{index}"]))

    def _grant_api_handler(self) -> None:
        self._grant_tables(self.api_role, API_TABLE_ACTIONS, API_INDEX_ACTIONS)
        self.api_role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:DeleteItem"], resources=[self.tables["links"].table_arn],
            conditions=CLAIM_DELETE_CONDITION))
        # The fallback: only sending, only to its own queue (no GetQueueUrl: the URL is in
        # RELAIS_FALLBACK_QUEUE_URL; no attributes, no receiving).
        self.api_role.add_to_principal_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[self.fallback_queue.queue_arn]))
        self.chalice.get_resource(API_FUNCTION).add_property_override(
            "Environment.Variables.RELAIS_FALLBACK_QUEUE_URL", self.fallback_queue.queue_url)
        self.api_role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ssm:GetParameter"],
            resources=[self._parameter_arn(self.settings.admin_token_param),
                       self._parameter_arn(self.settings.secret_param),
                       self._parameter_arn(self.settings.origin_secret_param)]))
        if self.settings.ssm_kms_key_arn:
            # Only a customer-managed key needs this: the aws/ssm key's policy already lets
            # any principal of the account decrypt through SSM.
            self.api_role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt"], resources=[self.settings.ssm_kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"ssm.{self.region}.amazonaws.com"}}))

    def _grant_server_secret(self, role: iam.Role) -> None:
        """The server secret only (``RELAIS_SECRET_PARAM``): fans' sealed e-mails, sign-in and
        unsubscribe tokens and the claim digests all derive from it."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ssm:GetParameter"], resources=[self._parameter_arn(self.settings.secret_param)]))
        if self.settings.ssm_kms_key_arn:
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt"], resources=[self.settings.ssm_kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"ssm.{self.region}.amazonaws.com"}}))

    def _grant_mail_records(self, role: iam.Role, actions: tuple[str, ...]) -> None:
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in actions], resources=[self.tables["rollups"].table_arn],
            conditions=MAIL_RECORDS_CONDITION))

    def _parameter_arn(self, name: str) -> str:
        return self.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"),
                               arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)

    def _wire_aggregator(self) -> sqs.Queue:
        """Events stream → aggregator, with a failure queue for batches it gives up on.

        ``DynamoEventSource`` is not used: it grants ``dynamodb:ListStreams`` on ``*``.
        The grants below scope every stream action to the events table's stream.
        """
        events = self.tables["events"]
        self._grant_tables(self.aggregator_role, AGGREGATOR_TABLE_ACTIONS, AGGREGATOR_INDEX_ACTIONS)
        events.grant_stream(self.aggregator_role, "dynamodb:DescribeStream", "dynamodb:GetRecords",
                            "dynamodb:GetShardIterator")
        self.aggregator_role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:ListStreams"], resources=[f"{events.table_arn}/stream/*"]))

        failure_queue = sqs.Queue(
            self, "AggregatorFailures",
            retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        aggregator = lambda_.Function.from_function_attributes(
            self, "AggregatorFunction",
            function_arn=self.chalice.get_resource(AGGREGATOR_FUNCTION).get_att("Arn").to_string(),
            role=self.aggregator_role, same_environment=True)
        mapping = lambda_.EventSourceMapping(
            self, "AggregatorEvents",
            target=aggregator,
            event_source_arn=events.table_stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=STREAM_BATCH_SIZE,
            max_batching_window=STREAM_BATCHING_WINDOW,
            bisect_batch_on_error=True,
            retry_attempts=STREAM_RETRY_ATTEMPTS,
            max_record_age=STREAM_MAX_RECORD_AGE,
            parallelization_factor=STREAM_PARALLELIZATION,
            on_failure=event_sources.SqsDlq(failure_queue),
        )
        # Lambda checks the role can read the stream and reach the queue when it creates
        # the mapping: the role's policy must exist first, and so must the log group.
        mapping.node.add_dependency(self.aggregator_role)
        mapping.node.add_dependency(self.aggregator_log_group)
        return failure_queue

    def _consumed_queue(self, stem: str, consumer: str, role: iam.Role, log_group: logs.CfnLogGroup, *,
                        visibility_timeout: cdk.Duration, max_receives: int, batch_size: int,
                        max_concurrency: int, requeues: bool) -> tuple[sqs.Queue, sqs.Queue]:
        """``(dead letters, queue)``: a queue that the Chalice function ``consumer`` consumes,
        reporting the messages of a batch it failed, and where a message it crashed on
        ``max_receives`` times goes. Both are encrypted and refuse plain HTTP.

        ``role`` gets :data:`QUEUE_CONSUMER_ACTIONS` on this queue (and ``sqs:SendMessage``
        when the consumer ``requeues``: a delayed retry, a next attempt, the rest of a job).
        Senders are granted by the caller. The construct ids (``<stem>Queue``,
        ``<stem>DeadLetterQueue``, ``<consumer>Function``, ``<stem>Messages``) are the
        resources' logical ids: a new one would be a new, empty queue on the next deploy.
        """
        dead_letters = sqs.Queue(self, f"{stem}DeadLetterQueue", retention_period=QUEUE_RETENTION,
                                 encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
        queue = sqs.Queue(
            self, f"{stem}Queue", retention_period=QUEUE_RETENTION, visibility_timeout=visibility_timeout,
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receives))
        actions = [*QUEUE_CONSUMER_ACTIONS, *(["sqs:SendMessage"] if requeues else [])]
        role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[queue.queue_arn]))
        function = lambda_.Function.from_function_attributes(
            self, f"{consumer}Function", function_arn=self.chalice.get_resource(consumer).get_att("Arn").to_string(),
            role=role, same_environment=True)
        mapping = lambda_.EventSourceMapping(
            self, f"{stem}Messages", target=function, event_source_arn=queue.queue_arn, batch_size=batch_size,
            report_batch_item_failures=True, max_concurrency=max_concurrency)
        # Lambda checks the role can read the queue when it creates the mapping.
        mapping.node.add_dependency(role)
        mapping.node.add_dependency(log_group)
        return dead_letters, queue

    def _wire_fallback(self) -> tuple[sqs.Queue, sqs.Queue]:
        """``(dead letters, queue)``: the request path's facts that missed their write, which the
        ``Fallback`` function applies (``PutItem``/``UpdateItem`` on events only).

        Each message is one complete events-table item (DynamoDB JSON) and its token; the
        key is deterministic, so applying it twice, or after the original write did land
        after all, changes nothing.
        """
        self._grant_tables(self.fallback_role, FALLBACK_TABLE_ACTIONS)
        return self._consumed_queue(
            "Fallback", FALLBACK_FUNCTION, self.fallback_role, self.fallback_log_group,
            visibility_timeout=FALLBACK_VISIBILITY_TIMEOUT, max_receives=FALLBACK_MAX_RECEIVES,
            batch_size=FALLBACK_BATCH_SIZE, max_concurrency=FALLBACK_MAX_CONCURRENCY, requeues=False)

    def _wire_webhooks(self) -> tuple[sqs.Queue, sqs.Queue]:
        """``(dead letters, queue)`` of webhook deliveries: the aggregator and the API (a
        creator's retry) send, the ``Dispatcher`` consumes and sends the next attempt itself,
        delayed by the backoff (up to 15 minutes a hop). A message it crashes on five
        times goes to the dead-letter queue; the delivery item keeps its state either way.
        """
        dead_letters, queue = self._consumed_queue(
            "Webhook", DISPATCHER_FUNCTION, self.dispatcher_role, self.dispatcher_log_group,
            visibility_timeout=WEBHOOK_VISIBILITY_TIMEOUT, max_receives=WEBHOOK_MAX_RECEIVES,
            batch_size=WEBHOOK_BATCH_SIZE, max_concurrency=WEBHOOK_MAX_CONCURRENCY, requeues=True)
        for sender in (self.api_role, self.aggregator_role):
            sender.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                               resources=[queue.queue_arn]))
        for function in (API_FUNCTION, AGGREGATOR_FUNCTION, DISPATCHER_FUNCTION):
            self.chalice.get_resource(function).add_property_override(
                "Environment.Variables.RELAIS_WEBHOOK_QUEUE_URL", queue.queue_url)
        self._grant_tables(self.dispatcher_role, DISPATCHER_TABLE_ACTIONS)
        self._grant_server_secret(self.dispatcher_role)  # webhook secrets are sealed with keys derived from it
        return dead_letters, queue

    def _wire_mailer(self) -> tuple[sqs.Queue, sqs.Queue]:
        """``(dead letters, queue)`` of e-mail jobs: the ``Mailer`` consumes them and queues a
        failed send again itself, delayed. The API and the aggregator get the queue's URL (and
        may send to it) only in a stage that sends mail (:meth:`_wire_ses`): elsewhere a
        recovery or an unlock queues nothing. ``MailFeedback``'s grants are here too: Chalice
        packages both functions in every stage, and each runs with its own role.
        """
        self._grant_tables(self.mailer_role, MAILER_TABLE_ACTIONS)
        self._grant_mail_records(self.mailer_role, MAILER_RECORDS_ACTIONS)
        self._grant_server_secret(self.mailer_role)
        self._grant_mail_records(self.mail_feedback_role, MAIL_FEEDBACK_RECORDS_ACTIONS)
        self._grant_server_secret(self.mail_feedback_role)
        dead_letters, queue = self._consumed_queue(
            "Mail", MAILER_FUNCTION, self.mailer_role, self.mailer_log_group,
            visibility_timeout=MAIL_VISIBILITY_TIMEOUT, max_receives=MAIL_MAX_RECEIVES,
            batch_size=MAIL_BATCH_SIZE, max_concurrency=MAIL_MAX_CONCURRENCY, requeues=True)
        self.chalice.get_resource(MAILER_FUNCTION).add_property_override(
            "Environment.Variables.RELAIS_MAIL_QUEUE_URL", queue.queue_url)
        return dead_letters, queue

    def _import_bucket(self) -> s3.Bucket:
        """Where platform exports wait to be imported: private, encrypted, each file deleted a
        day after it was written; versioning off, so a deleted file leaves no version behind.

        Retained with the stack like the tables: a deleted stack leaves the bucket, whose
        lifecycle rule still empties it within two days. Its CORS rule lets the dashboard's
        page PUT a large export straight to S3 through the URL the API signed.
        """
        return s3.Bucket(
            self, "ImportBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # no KMS key: a signed PUT needs no kms grant
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True, minimum_tls_version=1.2,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(id="DeleteImportFilesAfterADay", expiration=IMPORT_FILE_LIFETIME,
                                              abort_incomplete_multipart_upload_after=IMPORT_FILE_LIFETIME)],
            cors=[s3.CorsRule(
                allowed_methods=[s3.HttpMethods.PUT], allowed_headers=list(IMPORT_UPLOAD_HEADERS),
                allowed_origins=dashboard_origins(f"https://{self.front.api_host}", self.front.api_url,
                                                  self.settings.effective_public_url),
                max_age=IMPORT_UPLOAD_PREFLIGHT_MAX_AGE)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _wire_importer(self) -> tuple[sqs.Queue, sqs.Queue]:
        """``(dead letters, queue)`` of import jobs: the API sends a job once its file is in the
        bucket; the ``Importer`` reads the file, applies a chunk of it and queues the rest.

        Only the API writes files (``s3:PutObject``, which a URL it signs lends the browser),
        under the two prefixes of :data:`IMPORT_FILE_PREFIXES`; the importer reads them. The
        API's ``s3:GetObject`` on uploads is for ``HeadObject`` (an upload's size, before its
        job is queued), which IAM authorizes as ``GetObject``. ``s3:ListBucket``: without it S3
        answers a missing key 403 rather than 404, and a missing upload would be a 500, an
        expired file a crash retried five times instead of the job's ``file_missing``. Nobody
        deletes a file: the lifecycle rule does.
        """
        dead_letters, queue = self._consumed_queue(
            "Import", IMPORTER_FUNCTION, self.importer_role, self.importer_log_group,
            visibility_timeout=IMPORT_VISIBILITY_TIMEOUT, max_receives=IMPORT_MAX_RECEIVES,
            batch_size=IMPORT_BATCH_SIZE, max_concurrency=IMPORT_MAX_CONCURRENCY, requeues=True)
        files = [self.import_bucket.arn_for_objects(f"{prefix}*") for prefix in IMPORT_FILE_PREFIXES]
        uploads = self.import_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")
        self.api_role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=files))
        self.api_role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[uploads]))
        self.api_role.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                                  resources=[queue.queue_arn]))
        self.importer_role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=files))
        for role in (self.api_role, self.importer_role):
            role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListBucket"],
                                                             resources=[self.import_bucket.bucket_arn]))
        self._grant_tables(self.importer_role, IMPORTER_TABLE_ACTIONS)
        for function in (API_FUNCTION, IMPORTER_FUNCTION):
            resource = self.chalice.get_resource(function)
            resource.add_property_override("Environment.Variables.RELAIS_IMPORT_BUCKET",
                                           self.import_bucket.bucket_name)
            resource.add_property_override("Environment.Variables.RELAIS_IMPORT_QUEUE_URL", queue.queue_url)
        return dead_letters, queue

    def _wire_ses(self) -> None:
        """The sender's SES identity and the stage's configuration set, whose bounces and
        complaints go to an SNS topic that ``MailFeedback`` reads; the senders get the queue.

        The mailer may send only from ``mailFrom`` (the ``ses:FromAddress`` condition), only
        through this identity and configuration set.
        """
        settings = self.settings
        assert settings.mail_from and settings.mail_identity
        configuration_set = ses.ConfigurationSet(
            self, "MailConfigurationSet", configuration_set_name=f"relais-{settings.stage}",
            reputation_metrics=True, suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS)
        topic = sns.Topic(self, "MailFeedbackTopic", display_name=f"Relais {settings.stage} e-mail bounces")
        configuration_set.add_event_destination(
            "BouncesAndComplaints", destination=ses.EventDestination.sns_topic(topic),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT])
        is_domain = settings.mail_identity != settings.mail_from
        identity = ses.EmailIdentity(
            self, "MailIdentity", configuration_set=configuration_set,
            identity=(ses.Identity.domain(settings.mail_identity) if is_domain
                      else ses.Identity.email(settings.mail_identity)))

        self.mailer_role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(SES_SEND_ACTIONS),
            resources=[self.format_arn(service="ses", resource="identity", resource_name=settings.mail_identity),
                       self.format_arn(service="ses", resource="configuration-set",
                                       resource_name=configuration_set.configuration_set_name)],
            conditions={"StringEquals": {"ses:FromAddress": settings.mail_from}}))
        mailer = self.chalice.get_resource(MAILER_FUNCTION)
        mailer.add_property_override("Environment.Variables.RELAIS_MAIL_FROM", settings.mail_from)
        mailer.add_property_override("Environment.Variables.RELAIS_SES_CONFIGURATION_SET",
                                     configuration_set.configuration_set_name)
        for sender, role in ((API_FUNCTION, self.api_role), (AGGREGATOR_FUNCTION, self.aggregator_role)):
            role.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                             resources=[self.mail_queue.queue_arn]))
            self.chalice.get_resource(sender).add_property_override(
                "Environment.Variables.RELAIS_MAIL_QUEUE_URL", self.mail_queue.queue_url)

        # The function is Chalice's (SAM): its own SNS event makes the subscription and the
        # permission for SNS to invoke it.
        self.chalice.get_resource(MAIL_FEEDBACK_FUNCTION).add_property_override(
            "Events.MailFeedback", {"Type": "SNS", "Properties": {"Topic": topic.topic_arn}})
        self.mail_configuration_set, self.mail_identity, self.mail_feedback_topic = configuration_set, identity, topic

    # Alarms and outputs -------------------------------------------------------------

    def _alarms(self) -> dict[str, cloudwatch.Alarm]:
        five_minutes = cdk.Duration.minutes(5)
        api_dimensions = {"ApiId": self.front.http_api.ref, "Stage": HTTP_API_STAGE}

        def lambda_metric(function: str, metric: str, statistic: str, period: cdk.Duration) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Lambda", metric_name=metric, statistic=statistic,
                                     period=period,
                                     dimensions_map={"FunctionName": self.chalice.get_resource(function).ref})

        def app_metric(metric: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace=self.metrics_namespace, metric_name=metric, statistic="Sum",
                                     dimensions_map={"service": METRICS_SERVICE}, period=five_minutes)

        api_5xx_rate = cloudwatch.MathExpression(
            # Below 20 requests per 5 minutes one error is noise, not a rate.
            expression="IF(requests >= 20, 100 * errors / requests, 0)",
            using_metrics={
                "errors": cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="5xx",
                                            dimensions_map=api_dimensions, statistic="Sum", period=five_minutes),
                "requests": cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="Count",
                                              dimensions_map=api_dimensions, statistic="Sum", period=five_minutes),
            },
            label="API 5xx %",
            period=five_minutes,
        )
        specs: dict[str, tuple[cloudwatch.IMetric, float, int, int, str]] = {
            "Api5xxRate": (api_5xx_rate, 1, 3, 2, "More than 1% of API requests answered 5xx"),
            "ApiHandlerErrors": (lambda_metric(API_FUNCTION, "Errors", "Sum", five_minutes), 5, 1, 1,
                                 "API handler invocations crashed or timed out"),
            "AggregatorErrors": (lambda_metric(AGGREGATOR_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                                 "The aggregator failed a batch: counters lag until it succeeds"),
            "AggregatorIteratorAge": (
                lambda_metric(AGGREGATOR_FUNCTION, "IteratorAge", "Maximum", cdk.Duration.minutes(1)),
                120_000, 5, 5, "Counters are more than 2 minutes behind the events stream"),
            "ApiLostEvents": (app_metric(LOST_EVENTS_METRIC), 0, 1, 1,
                              "A fact was neither written nor sent to the fallback queue: lost "
                              "(DynamoDB and SQS both failing?)"),
            "AggregatorSkippedRecords": (app_metric(SKIPPED_RECORDS_METRIC), 0, 1, 1,
                                         "The aggregator skipped stream records it could not read: not counted"),
            "CampaignFanCeiling": (app_metric(FAN_CEILING_METRIC), 0, 1, 1,
                                   "A campaign refused new fans at its ceiling (RELAIS_FAN_CEILING): see "
                                   "docs/runbook.md, 'A campaign at its fan ceiling'"),
            "AggregatorFailureQueueDepth": (
                self.failure_queue.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                 period=five_minutes),
                0, 1, 1, "The aggregator gave up on a batch: see docs/runbook.md, 'Failed batches'"),
            "FallbackDeadLetters": (
                self.fallback_dead_letters.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                         period=five_minutes),
                0, 1, 1, "Facts the fallback could not apply in 5 attempts: see docs/runbook.md, 'The fallback queue'"),
            "FallbackQueueAge": (
                self.fallback_queue.metric_approximate_age_of_oldest_message(statistic="Maximum",
                                                                            period=five_minutes),
                FALLBACK_QUEUE_AGE_ALARM.to_seconds(), 1, 1,
                "Facts have waited more than 15 minutes on the fallback queue: counts are behind"),
            "FallbackErrors": (lambda_metric(FALLBACK_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                               "The fallback consumer crashed or timed out: its messages will be retried"),
            "WebhookDeadLetters": (
                self.webhook_dead_letters.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                        period=five_minutes),
                0, 1, 1, "Webhook messages the dispatcher crashed on 5 times: see docs/runbook.md, 'Webhooks'"),
            "WebhookQueueAge": (
                self.webhook_queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=five_minutes),
                WEBHOOK_QUEUE_AGE_ALARM.to_seconds(), 1, 1,
                "A webhook message has waited more than 30 minutes: deliveries are stuck"),
            "DispatcherErrors": (lambda_metric(DISPATCHER_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                                 "The webhook dispatcher crashed or timed out: its messages will be retried"),
            "MailDeadLetters": (
                self.mail_dead_letters.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                     period=five_minutes),
                0, 1, 1, "E-mail jobs the mailer crashed on 5 times: see docs/runbook.md, 'E-mail'"),
            "MailQueueAge": (
                self.mail_queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=five_minutes),
                MAIL_QUEUE_AGE_ALARM.to_seconds(), 1, 1,
                "An e-mail job has waited more than 30 minutes: e-mails are stuck"),
            "MailerErrors": (lambda_metric(MAILER_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                             "The mailer crashed or timed out: its messages will be retried"),
            "MailGivenUp": (app_metric(MAIL_GIVEN_UP_METRIC), 0, 1, 1,
                            "An e-mail was given up after 6 failed sends: see docs/runbook.md, 'E-mail'"),
            "MailFeedbackErrors": (lambda_metric(MAIL_FEEDBACK_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                                   "Bounces or complaints could not be recorded: see docs/runbook.md, 'E-mail'"),
            "ImportDeadLetters": (
                self.import_dead_letters.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                                       period=five_minutes),
                0, 1, 1, "Import jobs the importer crashed on 5 times: see docs/runbook.md, 'Imports'"),
            "ImportQueueAge": (
                self.import_queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=five_minutes),
                IMPORT_QUEUE_AGE_ALARM.to_seconds(), 1, 1,
                "An import job has waited more than an hour: see docs/runbook.md, 'Imports'"),
            "ImporterErrors": (lambda_metric(IMPORTER_FUNCTION, "Errors", "Sum", five_minutes), 1, 1, 1,
                               "The importer crashed or timed out: the job's chunk will be retried "
                               "(see docs/runbook.md, 'Imports')"),
        }
        action = cloudwatch_actions.SnsAction(self.alarm_topic)
        alarms = {}
        for name, (metric, threshold, periods, datapoints, description) in specs.items():
            alarm = cloudwatch.Alarm(
                self, name, metric=metric, threshold=threshold,
                evaluation_periods=periods, datapoints_to_alarm=datapoints,
                comparison_operator=(cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD if threshold == 0
                                     else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD),
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"Relais {self.settings.stage}: {description}",
            )
            alarm.add_alarm_action(action)
            alarms[name] = alarm
        return alarms

    @property
    def api_url(self) -> str:
        return self.front.api_url

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "ApiUrl", value=self.api_url,
                      description="Base URL of the Relais API and of short links (HTTP API)")
        cdk.CfnOutput(self, "AssetsUrl", value=self.front.assets_url,
                      description="The cached host (CloudFront): QR images, widget.js, public stats")
        cdk.CfnOutput(self, "WidgetSnippet",
                      value=f'<script src="{self.front.assets_url}/widget.js" data-campaign="ID" async></script>',
                      description="Paste on the campaign page; replace ID with the campaign id")
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn,
                      description="Subscribe on-call here (or deploy with -c alarmEmail=...)")
        cdk.CfnOutput(self, "AggregatorFailureQueueUrl", value=self.failure_queue.queue_url,
                      description="Batches the aggregator gave up on (shard and sequence range)")
        cdk.CfnOutput(self, "FallbackQueueUrl", value=self.fallback_queue.queue_url,
                      description="Facts the request path could not write in time, applied by the Fallback function")
        cdk.CfnOutput(self, "FallbackDeadLetterQueueUrl", value=self.fallback_dead_letters.queue_url,
                      description="Facts the Fallback function could not apply (see docs/runbook.md)")
        cdk.CfnOutput(self, "WebhookQueueUrl", value=self.webhook_queue.queue_url,
                      description="Webhook deliveries due (or waiting for their next attempt)")
        cdk.CfnOutput(self, "WebhookDeadLetterQueueUrl", value=self.webhook_dead_letters.queue_url,
                      description="Webhook messages the Dispatcher could not handle (see docs/runbook.md, 'Webhooks')")
        cdk.CfnOutput(self, "MailQueueUrl", value=self.mail_queue.queue_url,
                      description="E-mails to send (or waiting for their next try)")
        cdk.CfnOutput(self, "MailDeadLetterQueueUrl", value=self.mail_dead_letters.queue_url,
                      description="E-mail jobs the Mailer could not handle (see docs/runbook.md, 'E-mail')")
        cdk.CfnOutput(self, "ImportBucketName", value=self.import_bucket.bucket_name,
                      description="Platform exports being imported (each file deleted a day after it was written)")
        cdk.CfnOutput(self, "ImportQueueUrl", value=self.import_queue.queue_url,
                      description="Import jobs (and the rest of each job, chunk by chunk)")
        cdk.CfnOutput(self, "ImportDeadLetterQueueUrl", value=self.import_dead_letters.queue_url,
                      description="Import jobs the Importer could not handle (see docs/runbook.md, 'Imports')")
        if self.mail_configuration_set is not None and self.mail_identity is not None:
            cdk.CfnOutput(self, "MailConfigurationSetName", value=self.mail_configuration_set.configuration_set_name,
                          description="The SES configuration set every e-mail goes through")
            if self.settings.mail_identity != self.settings.mail_from:
                for n, (name, value) in enumerate(_dkim_records_of(self.mail_identity), start=1):
                    cdk.CfnOutput(self, f"MailDkimRecord{n}", value=cdk.Fn.join(" ", [name, "CNAME", value]),
                                  description=f"DKIM record {n} of 3 to add to {self.settings.mail_identity}'s DNS")
        if self.front.domain is not None:
            cdk.CfnOutput(self, "CustomDomainTarget", value=self.front.domain.attr_regional_domain_name,
                          description=f"Point {self.settings.domain_name} here (CNAME, or a Route 53 alias)")
            cdk.CfnOutput(self, "CustomDomainHostedZoneId", value=self.front.domain.attr_regional_hosted_zone_id,
                          description="The hosted zone of a Route 53 alias record to CustomDomainTarget")
        if self.settings.assets_domain_name:
            cdk.CfnOutput(self, "AssetsDomainTarget", value=self.front.distribution.distribution_domain_name,
                          description=f"Point {self.settings.assets_domain_name} here (CNAME, or a Route 53 "
                                      "alias in hosted zone Z2FDTNDATAQYW2)")


def dashboard_origins(api_host_url: str, api_url: str, public_url: str | None) -> list[str]:
    """The origins the dashboard's page is served from (``GET /dashboard``, on the API), from
    which it PUTs large exports straight to the import bucket: the HTTP API's own host, which
    always answers, ``ApiUrl`` (the custom domain, if any) and ``publicUrl``'s scheme and host
    (an origin has no path). Not the assets host: keyed calls, the dashboard's, go to ``ApiUrl``.
    """
    origins = [api_host_url, api_url]
    if public_url:
        public = urlsplit(public_url)
        origins.append(f"{public.scheme}://{public.netloc}")
    return list(dict.fromkeys(origins))


def _dkim_records_of(identity: ses.EmailIdentity) -> list[tuple[str, str]]:
    return [(identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
            (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
            (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3)]


def environment_from_cdk() -> cdk.Environment | None:
    """The account/region the CDK CLI resolved, or ``None`` for an environment-agnostic stack."""
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return cdk.Environment(account=account, region=region) if account and region else None


def create_stack(app: cdk.App, settings: StageSettings, source_dir: str,
                 env: cdk.Environment | None = None) -> RelaisStack:
    return RelaisStack(app, settings, source_dir=source_dir, env=env or environment_from_cdk(),
                       stack_name=f"relais-{settings.stage}",
                       description=f"Relais share and referral tracking ({settings.stage})")
