"""Relais HTTP routes: parse, call a service in chalicelib, shape the response. Nothing else.

Only what a redirect needs is imported here. The other services are imported inside their
routes, so that the redirect's cold start does not pay for code it never runs (Python
imports a module once; later calls cost a dictionary lookup).
"""
from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.core.observability import flush_metrics
from chalicelib.hotpath import lookups, tracking
from chalicelib.web.http import (
    BinaryResponse,
    bearer_token,
    check_write_origin,
    client_ip,
    cors_headers,
    header,
    headers_on_errors,
    json_response,
    middleware,
    outages_as_503,
    prefers_representation,
    public_base,
    read_json,
)

app = Chalice(app_name="relais")
app.register_middleware(middleware, "http")


def _request() -> Request:
    """The request being served (Chalice sets it before calling a route)."""
    request = app.current_request
    assert request is not None
    return request


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})
app.api.binary_types.remove("image/png")  # qr.png is a BinaryResponse: a PNG whatever the Accept header

JSON_OR_TEXT = ["application/json", "text/plain"]  # navigator.sendBeacon posts text/plain
QR_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
NO_STORE = {"Cache-Control": "no-store"}  # responses that carry a secret
OPERATOR_VIEW = {"Cache-Control": "private, no-cache"}  # every campaign's figures: never in a shared cache


def route(path: str, **options):
    """``app.route``, with DynamoDB outages answered ``503`` (retry later) rather than 500."""
    def register(view):
        return app.route(path, **options)(outages_as_503(view))
    return register


def _token() -> str | None:
    return bearer_token(_request().headers)


@route("/healthz", methods=["GET"])
def healthz():
    return json_response(200, {"ok": True})


# Redirect and QR codes ------------------------------------------------------------

def _visit() -> tracking.Visit:
    request = _request()
    return tracking.Visit(
        method=request.method,
        user_agent=header(request, "user-agent") or "",
        ip=client_ip(request),
        private=header(request, "sec-gpc") == "1" or header(request, "dnt") == "1",
        prefetch=tracking.is_prefetch(request.headers or {}),
    )


@route("/r/{code}", methods=["GET", "HEAD"])
def follow_link(code):
    location = tracking.redirect(code, _query().get("c"), _visit())
    return Response(body="", status_code=302,
                    headers={"Location": location, "Cache-Control": "private, no-store",
                             "Referrer-Policy": "no-referrer"})


@route("/r/{code}/qr.svg", methods=["GET"])
def qr_svg(code):
    from chalicelib.domain import qr

    lookups.resolve(code)
    image = qr.svg(f"{public_base(_request())}/r/{code}?c=qr")
    return Response(body=image.decode(), status_code=200, headers={"Content-Type": "image/svg+xml", **QR_CACHE})


@route("/r/{code}/qr.png", methods=["GET"])
def qr_png(code):
    from chalicelib.domain import qr

    size = qr.png_size(_query().get("size"))
    lookups.resolve(code)
    image = qr.png(f"{public_base(_request())}/r/{code}?c=qr", size)
    return BinaryResponse(body=image, status_code=200, headers={"Content-Type": "image/png", **QR_CACHE})


# Fans ---------------------------------------------------------------------------------

@route("/v1/campaigns/{campaign_id}/referrers", methods=["POST"], content_types=JSON_OR_TEXT)
def create_referrer(campaign_id):
    from chalicelib.domain import campaigns, links
    from chalicelib.hotpath import rate_limits

    request = _request()
    campaign = campaigns.get_or_404(campaign_id)
    cors = cors_headers(request, campaign.allowed_origins)
    with headers_on_errors(cors):
        check_write_origin(request, campaign.allowed_origins)
        fan = links.parse(read_json(request))
        base = public_base(request)
        rate_limits.check(campaign.id, "referrers", client_ip(request))
        link = links.create(campaign, fan)
    return json_response(201, links.to_dict(link, campaign, base), cors)


@route("/v1/campaigns/{campaign_id}/referrers", methods=["OPTIONS"])
def preflight_referrers(campaign_id):
    from chalicelib.domain import campaigns

    campaign = campaigns.get_or_404(campaign_id)
    return Response(body="", status_code=204,
                    headers={"Content-Type": "text/plain",
                             **cors_headers(_request(), campaign.allowed_origins)})


@route("/v1/campaigns/{campaign_id}/referrers/recover", methods=["POST"], content_types=JSON_OR_TEXT)
def recover_referrer(campaign_id):
    from chalicelib.domain import campaigns, fan_mail
    from chalicelib.hotpath import rate_limits

    request = _request()
    campaign = campaigns.get_or_404(campaign_id)
    cors = cors_headers(request, campaign.allowed_origins)
    with headers_on_errors(cors):
        check_write_origin(request, campaign.allowed_origins)
        body = read_json(request)
        rate_limits.check(campaign.id, "referrers", client_ip(request))
        fan_mail.recover(campaign, body, public_base(request))
    return json_response(202, {"accepted": True}, cors)


@route("/v1/campaigns/{campaign_id}/referrers/signin", methods=["POST"], content_types=JSON_OR_TEXT)
def sign_in_referrer(campaign_id):
    from chalicelib.domain import campaigns, fan_mail, links

    request = _request()
    campaign = campaigns.get_or_404(campaign_id)
    cors = cors_headers(request, campaign.allowed_origins)
    with headers_on_errors(cors):
        check_write_origin(request, campaign.allowed_origins)
        link = fan_mail.signin(campaign, read_json(request))
        base = public_base(request)
    return json_response(200, links.to_dict(link, campaign, base), {**cors, "Cache-Control": "no-store"})


@route("/v1/campaigns/{campaign_id}/referrers/recover", methods=["OPTIONS"])
def preflight_recover(campaign_id):
    return preflight_referrers(campaign_id)


@route("/v1/campaigns/{campaign_id}/referrers/signin", methods=["OPTIONS"])
def preflight_signin(campaign_id):
    return preflight_referrers(campaign_id)


@route("/v1/unsubscribe/{token}", methods=["POST"],
       content_types=["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"])
def unsubscribe(token):
    from chalicelib.web import unsubscribe_page

    return unsubscribe_page.done(token)


@route("/v1/unsubscribe/{token}", methods=["GET"])
def unsubscribe_confirm(token):
    from chalicelib.web import unsubscribe_page

    return unsubscribe_page.confirm(token)


@route("/v1/referrers/{code}", methods=["GET"])
def get_referrer(code):
    from chalicelib.read import impact

    body, origins = impact.impact(code)
    return json_response(200, body, {**cors_headers(_request(), origins), "Cache-Control": "no-store"})


@route("/v1/shares", methods=["POST"], content_types=JSON_OR_TEXT)
def record_share():
    from chalicelib.hotpath import rate_limits

    request = _request()
    link, campaign, channel = tracking.parse_share(read_json(request))
    cors = cors_headers(request, campaign.allowed_origins)
    with headers_on_errors(cors):
        check_write_origin(request, campaign.allowed_origins)
        rate_limits.check(campaign.id, "shares", client_ip(request))
        tracking.record_share(link, channel, _visit())
    return json_response(202, {"accepted": True}, cors)


@route("/v1/landings", methods=["POST"], content_types=JSON_OR_TEXT)
def record_landing():
    request = _request()
    ref = tracking.parse_landing(read_json(request))
    campaign = tracking.landing_campaign(ref)
    cors = cors_headers(request, campaign.allowed_origins) if campaign else {}
    with headers_on_errors(cors):
        if campaign:
            from chalicelib.hotpath import rate_limits

            check_write_origin(request, campaign.allowed_origins)
            rate_limits.check(campaign.id, "landings", client_ip(request))
        tracking.record_landing(ref, campaign, _visit())
    return json_response(202, {"accepted": True}, cors)


@route("/v1/campaigns/{campaign_id}/widget", methods=["GET"])
def get_widget_data(campaign_id):
    from chalicelib.domain import campaigns
    from chalicelib.read import widget_data

    campaign = campaigns.get_or_404(campaign_id)
    headers = {**cors_headers(_request(), campaign.allowed_origins), "Cache-Control": "public, max-age=15"}
    return json_response(200, widget_data.widget(campaign), headers)


# Fans' data and moderation (campaign key) ----------------------------------------------

@route("/v1/campaigns/{campaign_id}/referrers", methods=["GET"])
def list_referrers(campaign_id):
    from chalicelib.domain import campaigns, fans

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, fans.page(campaign, _query()), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/referrers/{code}", methods=["PATCH"])
def moderate_referrer(campaign_id, code):
    from chalicelib.domain import campaigns, fans

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, fans.moderate(campaign, code, read_json(_request())), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/referrers/{code}/export", methods=["GET"])
def export_referrer(campaign_id, code):
    from chalicelib.domain import campaigns, fans

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, fans.export(campaign, code), {
        **OPERATOR_VIEW, "Content-Disposition": f'attachment; filename="relais-{campaign.id}-{code}.json"'})


@route("/v1/campaigns/{campaign_id}/referrers/{code}", methods=["DELETE"])
def erase_referrer(campaign_id, code):
    from chalicelib.domain import campaigns, fans

    campaign = campaigns.authorize(campaign_id, _token())
    erased = fans.erase(campaign, code)
    if prefers_representation(_request()):  # what stays restorable, and until when
        return json_response(200, fans.erasure_answer(erased), {
            "Cache-Control": "no-store", "Preference-Applied": "return=representation", "Vary": "Prefer"})
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store", "Vary": "Prefer"})


# Creators -----------------------------------------------------------------------------

@route("/v1/campaigns", methods=["POST"])
def create_campaign():
    from chalicelib.domain import access, campaigns

    access.require_operator(_token())
    campaign, key = campaigns.create(read_json(_request()))
    return json_response(201, {"campaign": campaigns.to_dict(campaign), "api_key": key,
                               **campaigns.new_secrets(None, campaign)}, NO_STORE)


@route("/v1/campaigns", methods=["GET"])
def list_campaigns():
    from chalicelib.domain import access
    from chalicelib.read import insights

    access.require_operator(_token(), "list campaigns")
    return json_response(200, insights.campaign_page(_query()), OPERATOR_VIEW)


@route("/v1/insights", methods=["GET"])
def get_insights():
    from chalicelib.domain import access
    from chalicelib.read import insights

    access.require_operator(_token(), "read the platform's insights")
    return json_response(200, insights.insights(_query()), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(campaign_id):
    from chalicelib.domain import campaigns

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, {"campaign": campaigns.to_dict(campaign)})


@route("/v1/campaigns/{campaign_id}", methods=["PATCH"])
def update_campaign(campaign_id):
    from chalicelib.domain import campaigns

    request = _request()
    campaign = campaigns.authorize(campaign_id, _token())
    answer = campaigns.update_showing_secrets(campaign, read_json(request), header(request, "if-match"))
    return json_response(200, answer, NO_STORE)


@route("/v1/campaigns/{campaign_id}/keys", methods=["POST"])
def rotate_campaign_key(campaign_id):
    from chalicelib.domain import campaigns

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(201, {"api_key": campaigns.rotate_key(campaign)}, NO_STORE)


@route("/v1/campaigns/{campaign_id}/webhooks/deliveries", methods=["GET"])
def list_webhook_deliveries(campaign_id):
    from chalicelib.domain import campaigns, webhook_settings

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, webhook_settings.deliveries(campaign), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/webhooks/deliveries/{delivery_id}/retry", methods=["POST"])
def retry_webhook_delivery(campaign_id, delivery_id):
    from chalicelib.domain import campaigns, webhook_settings

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(202, webhook_settings.retry(campaign, delivery_id), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/rewards", methods=["GET"])
def list_unlocked_rewards(campaign_id):
    from chalicelib.domain import campaigns
    from chalicelib.web import downloads

    request = _request()
    campaign = campaigns.authorize(campaign_id, _token())
    return downloads.rewards_answer(campaign, request.query_params or {}, header(request, "accept"), OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/platform-tags", methods=["GET"])
def list_platform_tags(campaign_id):
    from chalicelib.domain import campaigns
    from chalicelib.web import downloads

    request = _request()
    campaign = campaigns.authorize(campaign_id, _token())
    return downloads.platform_tags_answer(campaign, request.query_params or {}, header(request, "accept"),
                                          OPERATOR_VIEW)


@route("/v1/campaigns/{campaign_id}/rewards/fulfilments", methods=["POST"])
def fulfil_reward(campaign_id):
    from chalicelib.domain import campaigns, rewards

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, rewards.fulfil(campaign, read_json(_request())))


@route("/v1/campaigns/{campaign_id}/rewards/fulfilments", methods=["DELETE"])
def unfulfil_reward(campaign_id):
    from chalicelib.domain import campaigns, rewards

    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, rewards.unfulfil(campaign, read_json(_request())))


@route("/v1/campaigns/{campaign_id}/pledges", methods=["POST"])
def record_pledge(campaign_id):
    from chalicelib.domain import campaigns, pledges

    campaign = campaigns.authorize(campaign_id, _token())
    status, body = pledges.record(campaign, pledges.parse(read_json(_request())))
    return json_response(status, body)


@route("/v1/campaigns/{campaign_id}/imports", methods=["POST"],
       content_types=["text/csv", "text/plain", "application/json"])  # JSON: a body-less import of an upload
def start_import(campaign_id):
    from chalicelib.domain import campaigns, imports

    request = _request()
    campaign = campaigns.authorize(campaign_id, _token())
    raw = request.raw_body or b""
    return json_response(202, imports.start(campaign, _query(), raw if isinstance(raw, bytes) else raw.encode()))


@route("/v1/campaigns/{campaign_id}/imports", methods=["GET"])
def list_imports(campaign_id):
    from chalicelib.domain import campaigns, imports

    return json_response(200, imports.history(campaigns.authorize(campaign_id, _token())))


@route("/v1/campaigns/{campaign_id}/imports/uploads", methods=["POST"])
def new_import_upload(campaign_id):
    from chalicelib.domain import campaigns, imports

    return json_response(201, imports.new_upload(campaigns.authorize(campaign_id, _token())), NO_STORE)


@route("/v1/campaigns/{campaign_id}/imports/{import_id}", methods=["GET"])
def get_import(campaign_id, import_id):
    from chalicelib.domain import campaigns, imports

    return json_response(200, imports.status(campaigns.authorize(campaign_id, _token()), import_id))


@route("/v1/campaigns/{campaign_id}/stripe", methods=["POST"], content_types=["application/json"])
def receive_stripe_event(campaign_id):
    from chalicelib.domain import campaigns, stripe_webhook

    request = _request()
    campaign = campaigns.get_or_404(campaign_id)
    raw = request.raw_body or b""
    event = stripe_webhook.verify(campaign, raw if isinstance(raw, bytes) else raw.encode(),
                                  header(request, "stripe-signature"))
    return json_response(200, stripe_webhook.handle(campaign, event))


@route("/v1/campaigns/{campaign_id}/stats", methods=["GET"])
def get_stats(campaign_id):
    from chalicelib.read import stats
    from chalicelib.web import downloads

    request = _request()
    campaign, public = stats.authorize(campaign_id, _token())
    cors = cors_headers(request, campaign.allowed_origins) if public else {}
    with headers_on_errors(cors):
        return downloads.stats_answer(campaign, public, _query(), header(request, "accept"),
                                      header(request, "if-none-match"), cors)


# Assets -------------------------------------------------------------------------------

@route("/widget.js", methods=["GET"])
def widget_script():
    from chalicelib.web import assets

    return assets.respond("widget.js", "public, max-age=300", header(_request(), "if-none-match"))


@route("/dashboard", methods=["GET"])
def dashboard():
    from chalicelib.web import assets

    return assets.respond("dashboard.html", "no-cache", header(_request(), "if-none-match"))


@route("/insights", methods=["GET"])
def insights_page():
    from chalicelib.web import assets

    return assets.respond("insights.html", "no-cache", header(_request(), "if-none-match"))


@route("/operator", methods=["GET"])
def operator_page():
    from chalicelib.web import assets

    return assets.respond("operator.html", "no-cache", header(_request(), "if-none-match"))


@route("/pages/{name}", methods=["GET"])
def page_asset(name):
    """The two pages' shared stylesheet and module, and each page's own (``widget/pages/``)."""
    from chalicelib.web import assets

    return assets.respond(f"pages/{name}", "no-cache", header(_request(), "if-none-match"))


# Stream aggregator ----------------------------------------------------------------------

@app.lambda_function(name="aggregator")
def aggregator(event, context):
    """Consumes the events table's stream (wired by the CDK stack; `make dev` polls moto's)."""
    from chalicelib.aggregate import counting

    try:
        return counting.handle_records(event.get("Records", []))
    finally:
        flush_metrics()


@app.lambda_function(name="dispatcher")
def dispatcher(event, context):
    """Attempts the webhook deliveries of the webhook queue (see chalicelib/outbound/dispatcher.py)."""
    from chalicelib.outbound import dispatcher

    try:
        return dispatcher.handle_queue_messages(event.get("Records", []))
    finally:
        flush_metrics()


@app.lambda_function(name="mailer")
def mailer(event, context):
    """Sends the e-mails of the mail queue (see chalicelib/outbound/mailer.py)."""
    from chalicelib.outbound import mailer

    try:
        return mailer.handle_queue_messages(event.get("Records", []))
    finally:
        flush_metrics()


@app.lambda_function(name="mail_feedback")
def mail_feedback(event, context):
    """SES bounces and complaints of the configuration set (SNS): the addresses are suppressed."""
    from chalicelib.domain import mail_feedback

    try:
        return {"suppressed": mail_feedback.handle(event)}
    finally:
        flush_metrics()


@app.lambda_function(name="importer")
def importer(event, context):
    """Runs the import jobs of the import queue (see chalicelib/domain/imports.py)."""
    from chalicelib.domain import imports

    try:
        return imports.handle_queue_messages(event.get("Records", []), context.get_remaining_time_in_millis)
    finally:
        flush_metrics()


@app.lambda_function(name="fallback")
def fallback(event, context):
    """Applies the facts the request path could not write in time (the SQS fallback queue)."""
    from chalicelib.store import fallback

    try:
        return fallback.apply_queue_messages(event.get("Records", []))
    finally:
        flush_metrics()
