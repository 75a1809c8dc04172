"""The Lambda package that ``chalice package`` builds for the stack: complete, lean, within limits."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from tests.infra.synthesis import REPO_ROOT

ZIPPED_LIMIT = 50 * 1024 * 1024  # direct upload limit; the stack uploads through S3, but stay below it
UNZIPPED_LIMIT = 250 * 1024 * 1024  # hard Lambda limit
FORBIDDEN_TOP_LEVEL = ("moto", "pytest", "_pytest", "PIL", "pillow", "playwright", "hypothesis", "schemathesis")


def _files_under(directory: Path) -> list[Path]:
    ignored = {"__pycache__"}
    return sorted(p for p in directory.rglob("*")
                  if p.is_file() and not ignored & set(p.parts) and p.suffix != ".pyc")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_package_contains_app_py_and_every_file_of_chalicelib(package: zipfile.ZipFile):
    names = set(package.namelist())
    assert "app.py" in names
    expected = _files_under(REPO_ROOT / "chalicelib")
    assert expected, "chalicelib/ is empty?"
    missing = [str(p.relative_to(REPO_ROOT)) for p in expected if p.relative_to(REPO_ROOT).as_posix() not in names]
    assert missing == []


def test_package_ships_chalicelib_assets_byte_for_byte(package: zipfile.ZipFile):
    """``chalicelib/assets/`` (if any) is how static files reach Lambda: Chalice ships only
    app.py, chalicelib/ and vendor/."""
    assets = _files_under(REPO_ROOT / "chalicelib" / "assets")
    for path in assets:
        name = path.relative_to(REPO_ROOT).as_posix()
        assert package.read(name) == path.read_bytes(), name


def test_every_widget_file_is_in_the_package_somewhere_with_the_same_content(package: zipfile.ZipFile):
    """widget/ is not shipped by Chalice itself; whatever copies it into the package must copy
    every file unchanged (wherever it puts them: chalicelib/assets/, vendor/ …)."""
    shipped = {_digest(package.read(info)) for info in package.infolist() if not info.is_dir()}
    missing = [str(p.relative_to(REPO_ROOT)) for p in _files_under(REPO_ROOT / "widget")
               if _digest(p.read_bytes()) not in shipped]
    assert missing == []


def test_package_leaves_out_test_and_browser_tooling(package: zipfile.ZipFile):
    top_level = {name.split("/", 1)[0].split("-", 1)[0].lower() for name in package.namelist()}
    assert not top_level & {name.lower() for name in FORBIDDEN_TOP_LEVEL}


def test_package_fits_lambda_size_limits(package: zipfile.ZipFile, synth):
    zipped = synth.package_path.stat().st_size
    unzipped = sum(info.file_size for info in package.infolist())
    print(f"\nLambda package {synth.package_path.name}: {zipped / 1e6:.1f} MB zipped, "
          f"{unzipped / 1e6:.1f} MB unzipped")
    assert zipped < ZIPPED_LIMIT
    assert unzipped < UNZIPPED_LIMIT
