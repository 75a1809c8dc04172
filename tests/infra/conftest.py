"""Infra tier: synthesize the CDK stack in-process, once per session, with no AWS access.

Synthesis runs ``chalice package`` (through ``chalice.cdk.Chalice``), which pip-installs
``requirements.txt`` into a package cached under ``.chalice/deployments/``: the first run
on a machine downloads wheels, later runs reuse them. Everything else is offline: the
account and region are dummies and the stack does no context lookups.
"""
from __future__ import annotations

import zipfile
from typing import Any

import pytest

from tests.infra.synthesis import ACCOUNT, MAIL_FROM, REGION, Synthesized, synthesize

_package_report: dict[str, Any] = {}


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synthesized:
    """The default stage (``cdk.json`` context: stage ``prod``, no custom domain)."""
    return synthesize(tmp_path_factory.mktemp("synth-default"))


@pytest.fixture(scope="session")
def synth_with_options(tmp_path_factory) -> Synthesized:
    """A stage using every optional context key, to cover the branches they switch on."""
    return synthesize(tmp_path_factory.mktemp("synth-options"), {
        "stage": "staging",
        "domainName": "go.example.org",
        "certificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-0000-0000-000000000000",
        "assetsDomainName": "cdn.example.org",
        "assetsCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/22222222-2222-2222-2222-222222222222",
        "warmWritesPerSecond": "10000",
        "alarmEmail": "oncall@example.org",
        "ssmKmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111",
        "adminTokenParam": "/custom/path/admin",
        "secretParam": "/custom/path/secret",
        "originSecretParam": "/custom/path/origin",
        "secretsVersion": "2",
        "apiMemoryMb": 1024,
        "aggregatorMemoryMb": "512",
        "fallbackMemoryMb": 384,
        "mailFrom": MAIL_FROM,
        "mailRegion": REGION,
    })


@pytest.fixture(scope="session")
def package(synth) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(synth.package_path)
    infos = archive.infolist()
    _package_report.update(
        path=synth.package_path,
        zipped=synth.package_path.stat().st_size,
        unzipped=sum(info.file_size for info in infos),
        files=len(infos),
    )
    return archive


def pytest_terminal_summary(terminalreporter) -> None:
    if _package_report:
        terminalreporter.write_line(
            "Lambda deployment package: {zipped_mb:.1f} MB zipped, {unzipped_mb:.1f} MB unzipped, "
            "{files} files".format(zipped_mb=_package_report["zipped"] / 1e6,
                                   unzipped_mb=_package_report["unzipped"] / 1e6, files=_package_report["files"]))
