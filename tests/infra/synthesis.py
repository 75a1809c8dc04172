"""Synthesizing the stack for the infra tier, offline: shared by the fixtures and the tests."""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
MAIL_FROM = "relais@mail.example.org"
"""The sender of the stage with every option (``synth_with_options``): its SES identity is the domain."""
IMPORT_BUCKET_NAME = "prod-importbucketbaf3a8e9-0123456789ab"
"""What the import bucket's generated name resolves to in :meth:`Synthesized.resolved_environment`."""
OFFLINE_ENV = {
    "CDK_DEFAULT_ACCOUNT": ACCOUNT,
    "CDK_DEFAULT_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    # No credentials: anything that tried to reach AWS would fail loudly, not hang on IMDS.
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
}


@dataclass
class Synthesized:
    """One synthesized stage: the CDK objects, its template and the Lambda package it ships."""

    stack: Any
    template: Any  # aws_cdk.assertions.Template
    template_json: dict
    template_path: Path
    package_path: Path

    @property
    def resources(self) -> dict[str, dict]:
        return self.template_json["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        """Logical id of a construct of the stack (``stack.fallback_queue``, ``stack.front.http_api`` …)
        in the template: an L1 resource's own, or an L2 construct's underlying resource's."""
        import aws_cdk as cdk

        element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return self.stack.resolve(element.logical_id)

    def resolved_environment(self, function: str) -> dict[str, str]:
        """A function's environment as Lambda would see it: references become the names they
        resolve to (table names, a fallback queue URL, the distribution's host name)."""
        names: dict[str, str] = {logical_id: properties["Properties"]["TableName"]
                                 for logical_id, properties in self.of_type("AWS::DynamoDB::Table").items()}
        names[self.logical_id(self.stack.fallback_queue)] = (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/relais-prod-fallback-gone")
        names[self.logical_id(self.stack.webhook_queue)] = (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/relais-prod-webhooks-gone")
        names[self.logical_id(self.stack.mail_queue)] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/relais-mail"
        names[self.logical_id(self.stack.import_queue)] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/relais-imports"
        names[self.logical_id(self.stack.import_bucket)] = IMPORT_BUCKET_NAME
        if self.stack.mail_configuration_set is not None:
            names[self.logical_id(self.stack.mail_configuration_set)] = f"relais-{self.stack.settings.stage}"
        attributes = {(self.logical_id(self.stack.front.distribution), "DomainName"): "d111111abcdef8.cloudfront.net"}

        def resolve(value: Any) -> str:
            if not isinstance(value, dict):
                return str(value)
            if "Ref" in value:
                return names[value["Ref"]]
            if "Fn::GetAtt" in value:
                return attributes[tuple(value["Fn::GetAtt"])]
            separator, parts = value["Fn::Join"]
            return separator.join(resolve(part) for part in parts)

        variables = self.resources[function]["Properties"]["Environment"]["Variables"]
        return {name: resolve(value) for name, value in variables.items()}

    def table_ids(self) -> dict[str, str]:
        """Logical id of each table by its base name (``events`` …)."""
        prefix = self.stack.settings.table_prefix
        return {r["Properties"]["TableName"].removeprefix(prefix): name
                for name, r in self.of_type("AWS::DynamoDB::Table").items()}


def _cdk_json_context() -> dict[str, Any]:
    """The context ``cdk synth`` would pass, so the tests synthesize what gets deployed."""
    return json.loads((REPO_ROOT / "infra" / "cdk.json").read_text())["context"]


@contextlib.contextmanager
def offline(workdir: Path) -> Iterator[None]:
    """Dummy account, region and credentials, and ``workdir`` as the working directory
    (chalice.cdk writes its package to ``./chalice.out``), only while synthesizing: the rest
    of a ``make test`` session (unit and integration tiers) must not inherit them."""
    saved_environ, saved_cwd = dict(os.environ), Path.cwd()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(name, None)
    os.environ.update(OFFLINE_ENV)
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)


def synthesize(workdir: Path, context: dict[str, Any] | None = None) -> Synthesized:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.settings import StageSettings
    from infra.stack import create_stack

    workdir.mkdir(parents=True, exist_ok=True)
    app = cdk.App(outdir=str(workdir / "cdk.out"), context={**_cdk_json_context(), **(context or {})})
    with offline(workdir):
        stack = create_stack(app, StageSettings.from_context(app.node), source_dir=str(REPO_ROOT),
                             env=cdk.Environment(account=ACCOUNT, region=REGION))
        template = Template.from_stack(stack)
    assembly_dir = workdir / "cdk.out"
    template_path = assembly_dir / stack.template_file
    code_asset = stack.chalice.node.find_child("ChaliceAppCode")
    return Synthesized(stack=stack, template=template, template_json=json.loads(template_path.read_text()),
                       template_path=template_path, package_path=assembly_dir / code_asset.asset_path)
