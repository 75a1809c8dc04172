"""Relais HTTP routes: parse, call a service in chalicelib, shape the response. Nothing else."""
from chalice import Chalice

from chalicelib import auth, campaigns
from chalicelib.http import json_response, middleware, read_json

app = Chalice(app_name="relais")
app.register_middleware(middleware, "http")


def _token() -> str | None:
    return auth.bearer_token(app.current_request.headers)


@app.route("/healthz", methods=["GET"])
def healthz():
    return json_response(200, {"ok": True})


@app.route("/v1/campaigns", methods=["POST"])
def create_campaign():
    auth.require_operator(_token())
    campaign, key = campaigns.create(read_json(app.current_request))
    return json_response(201, {"campaign": campaigns.to_dict(campaign), "api_key": key})


@app.route("/v1/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(campaign_id):
    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(200, {"campaign": campaigns.to_dict(campaign)})


@app.route("/v1/campaigns/{campaign_id}", methods=["PATCH"])
def update_campaign(campaign_id):
    campaign = campaigns.authorize(campaign_id, _token())
    campaign = campaigns.update(campaign, read_json(app.current_request))
    return json_response(200, {"campaign": campaigns.to_dict(campaign)})


@app.route("/v1/campaigns/{campaign_id}/keys", methods=["POST"])
def rotate_campaign_key(campaign_id):
    campaign = campaigns.authorize(campaign_id, _token())
    return json_response(201, {"api_key": campaigns.rotate_key(campaign)})
