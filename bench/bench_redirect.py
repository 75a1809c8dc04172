"""Redirect: DynamoDB calls per request, warm handler time and cold start, each against a
baseline that makes the same single write to the same DynamoDB server."""
from __future__ import annotations

import compileall
import json
import os
import shutil
import textwrap

from bench.common import ROOT, interleaved, median_ms, report, run_python
from bench.lambda_events import FakeContext, redirect_event
from bench.proxied import counted

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

BASELINE = textwrap.dedent("""
    import botocore.config, botocore.session, os, secrets
    session = botocore.session.get_session()
    client = session.create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=os.environ["RELAIS_DYNAMODB_ENDPOINT"],
        config=botocore.config.Config(connect_timeout=0.25, read_timeout=0.5,
                                      retries={"total_max_attempts": 1, "mode": "standard"}))
    def handler(event, context):
        client.update_item(TableName=os.environ["RELAIS_TABLE_PREFIX"] + "events",
            Key={"pk": {"S": "baseline#03"}, "sk": {"S": "v#2026-11-29#code#x#" + secrets.token_urlsafe(16)}},
            UpdateExpression="ADD hits :one SET kind = :k, code = :c, channel = :ch, #d = :d, campaign_id = :id, "
                             "expires_at = :t",
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":k": {"S": "click"}, ":c": {"S": "code"}, ":ch": {"S": "x"},
                ":d": {"S": "2026-11-29"}, ":id": {"S": "baseline"}, ":t": {"N": "1800000000"}})
        return {"statusCode": 302, "headers": {"Location": "https://example.org/"}, "body": ""}
""")


def _seed(**settings: object) -> str:
    from chalicelib.domain import campaigns, links

    campaign, _ = campaigns.create({"name": "Bench", "target_url": "https://example.org/campaign?x=1", **settings})
    link = links.create(campaign, links.parse({"name": "Bench fan"}))
    return link.code


def calls_per_request(upstream: str, code: str) -> None:
    from app import app

    with counted(upstream) as proxy:
        app(redirect_event(code, "198.51.100.1", CHROME), FakeContext())  # warm the caches
        for label, agent, method in (("human click", CHROME, "GET"), ("preview (bot)", "Twitterbot/1.0", "GET"),
                                     ("preview (HEAD)", CHROME, "HEAD")):
            proxy.reset()
            for i in range(50):
                response = app(redirect_event(code, f"198.51.100.{i}", agent, method), FakeContext())
                assert response["statusCode"] == 302
            report(f"DynamoDB calls per warm {label}",
                   f"{proxy.writes() / 50:.2f} writes, {proxy.reads() / 50:.2f} reads",
                   "target: 1 write, 0 reads" if label == "human click" else "target: <= 1 write")


def calls_with_platform_tags(upstream: str, code: str) -> None:
    """A campaign on a hosted platform: each click's destination carries the fan's tag of the
    channel (derived, ``hotpath.platform_tags``), still for one write and no read."""
    from app import app

    with counted(upstream) as proxy:
        app(redirect_event(code, "198.51.100.1", CHROME, channel="whatsapp"), FakeContext())
        proxy.reset()
        for i in range(50):
            response = app(redirect_event(code, f"198.51.100.{i}", CHROME, channel=("whatsapp", "qr")[i % 2]),
                           FakeContext())
            assert response["statusCode"] == 302 and "ref=" in response["headers"]["Location"]
        report("DynamoDB calls per warm click, platform tags per channel",
               f"{proxy.writes() / 50:.2f} writes, {proxy.reads() / 50:.2f} reads", "target: 1 write, 0 reads")


def warm_ratio(code: str) -> None:
    from app import app

    namespace: dict = {}
    exec(BASELINE, namespace)
    baseline = namespace["handler"]
    counter = iter(range(10**9))
    context = FakeContext()

    def relais():
        response = app(redirect_event(code, f"203.0.113.{next(counter) % 250}", CHROME + str(next(counter))), context)
        assert response["statusCode"] == 302

    def base():
        baseline({}, context)

    interleaved(30, relais, base)
    ours, theirs = interleaved(400, relais, base)
    report("Warm redirect handler, median", f"{median_ms(ours):.2f} ms vs {median_ms(theirs):.2f} ms")
    report("Warm redirect ÷ baseline single write", f"{median_ms(ours) / median_ms(theirs):.2f}", "target: <= 1.3")


def cold_ratio(code: str) -> None:
    event = json.dumps(redirect_event(code, "192.0.2.10", CHROME))
    relais = textwrap.dedent(f"""
        import json
        from app import app
        from bench.lambda_events import FakeContext
        response = app(json.loads({event!r}), FakeContext())
        assert response["statusCode"] == 302, response
    """)
    baseline = BASELINE + "\nhandler({}, None)\n"
    env = dict(os.environ)
    # pip installed botocore with its bytecode; our modules get theirs too, as the stack's
    # package does (infra.stack.compile_app_modules). The second figure: a package without.
    compileall.compile_dir(str(ROOT / "chalicelib"), quiet=1)
    compileall.compile_file(str(ROOT / "app.py"), quiet=1)
    run_python(relais, env), run_python(baseline, env)  # warm the OS file cache
    samples = [(run_python(relais, env), run_python(baseline, env)) for _ in range(15)]
    ours = median_ms([s[0] for s in samples])
    theirs = median_ms([s[1] for s in samples])
    report("Cold start (fresh process, first redirect), median", f"{ours:.0f} ms vs {theirs:.0f} ms")
    report("Cold start ÷ botocore import + client + one write", f"{ours / theirs:.2f}", "target: <= 1.25")
    for cache in [ROOT / "__pycache__", *(ROOT / "chalicelib").rglob("__pycache__")]:
        shutil.rmtree(cache, ignore_errors=True)
    uncompiled = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    samples = [(run_python(relais, uncompiled), run_python(baseline, env)) for _ in range(5)]
    report("  the same, our modules compiled at start (no bytecode)",
           f"{median_ms([s[0] for s in samples]) / median_ms([s[1] for s in samples]):.2f}")


def run(upstream: str) -> None:
    code = _seed()
    calls_per_request(upstream, code)
    calls_with_platform_tags(upstream, _seed(platform={"name": "kickstarter", "tag_per": "fan_channel"}))
    warm_ratio(code)
    cold_ratio(code)
