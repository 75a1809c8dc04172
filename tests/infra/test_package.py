"""The Lambda package that ``chalice package`` builds for the stack: complete, lean, within limits."""
from __future__ import annotations

import hashlib
import importlib.util
import zipfile
from pathlib import Path

from tests.infra.synthesis import REPO_ROOT

ZIPPED_LIMIT = 50 * 1024 * 1024  # direct upload limit; the stack uploads through S3, but stay below it
UNZIPPED_LIMIT = 250 * 1024 * 1024  # hard Lambda limit
FORBIDDEN_TOP_LEVEL = ("moto", "pytest", "_pytest", "PIL", "pillow", "playwright", "hypothesis", "schemathesis",
                       "tests", "harness", "bench")


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


def _asset_root_in_package() -> str:
    """Where the asset routes read the widget's files, as a path inside the package: the
    package root is the repository root's image (app.py, chalicelib/, and vendor/'s content)."""
    from chalicelib.web import assets

    return assets.ROOT.relative_to(REPO_ROOT).as_posix()


def test_package_ships_the_widget_assets_byte_for_byte_where_the_asset_routes_read_them(package: zipfile.ZipFile):
    """``/widget.js``, ``/dashboard``, ``/insights`` and ``/pages/…`` serve files of ``widget/``
    (chalicelib/web/assets.py): ``vendor/widget`` links there, and ``chalice package`` copies
    ``vendor/`` into the package root. Every file must be there, unchanged, at the very path
    the routes open."""
    from chalicelib.web.assets import SERVED

    root = _asset_root_in_package()
    assets = {f"{root}/{p.relative_to(REPO_ROOT / 'widget').as_posix()}": p for p in _files_under(REPO_ROOT / "widget")}
    assert {f"{root}/{name}" for name in SERVED} <= set(assets)
    assert {f"{root}/pages/common.css", f"{root}/pages/common.js"} <= set(assets)
    missing = sorted(set(assets) - set(package.namelist()))
    assert missing == [], f"not in the package where the asset routes read them: {missing}"
    for name, path in assets.items():
        assert package.read(name) == path.read_bytes(), name


def test_vendor_widget_is_a_link_to_the_widget_folder_not_a_copy():
    """A copy under vendor/ would ship stale assets after ``make widget``; the link cannot."""
    vendored = REPO_ROOT / "vendor" / "widget"
    assert vendored.is_symlink()
    assert vendored.resolve() == (REPO_ROOT / "widget").resolve()


def test_package_leaves_out_test_and_browser_tooling(package: zipfile.ZipFile):
    top_level = {name.split("/", 1)[0].split("-", 1)[0].lower() for name in package.namelist()}
    assert not top_level & {name.lower() for name in FORBIDDEN_TOP_LEVEL}


def test_package_leaves_out_pynamodb_which_only_declares_the_schema(package: zipfile.ZipFile):
    """The Lambda converts items with ``store.codec`` and never imports PynamoDB
    (``tests/unit/test_codec.py`` imports every runtime module with PynamoDB blocked)."""
    top_level = {name.split("/", 1)[0].split("-", 1)[0].lower() for name in package.namelist()}
    assert "pynamodb" not in top_level
    assert "botocore" in top_level


def test_every_module_of_chalicelib_ships_with_bytecode_that_its_packaged_source_validates(package, synth):
    """Lambda cannot write bytecode next to the code: a module shipped without it is compiled
    at every cold start (``infra.stack.compile_app_modules``). Each ``.pyc`` must be for the
    functions' runtime, checked-hash (flags 0b11: valid whatever the zip did to the files'
    times) and made from the very source packaged beside it."""
    runtimes = {r["Properties"]["Runtime"] for r in synth.of_type("AWS::Serverless::Function").values()} or \
        {r["Properties"]["Runtime"] for r in synth.of_type("AWS::Lambda::Function").values()
         if r["Properties"].get("Runtime", "").startswith("python")}
    assert len(runtimes) == 1
    tag = "cpython-" + runtimes.pop().removeprefix("python").replace(".", "")
    modules = [p.relative_to(REPO_ROOT).as_posix() for p in _files_under(REPO_ROOT / "chalicelib") if p.suffix == ".py"]
    assert len(modules) > 50
    for module in modules:
        folder, _, name = module.rpartition("/")
        compiled = package.read(f"{folder}/__pycache__/{name[:-3]}.{tag}.pyc")
        assert compiled[:4] == importlib.util.MAGIC_NUMBER, module
        assert int.from_bytes(compiled[4:8], "little") == 0b11, module
        assert compiled[8:16] == importlib.util.source_hash(package.read(module)), module


def test_package_fits_lambda_size_limits(package: zipfile.ZipFile, synth):
    zipped = synth.package_path.stat().st_size
    unzipped = sum(info.file_size for info in package.infolist())
    print(f"\nLambda package {synth.package_path.name}: {zipped / 1e6:.1f} MB zipped, "
          f"{unzipped / 1e6:.1f} MB unzipped")
    assert zipped < ZIPPED_LIMIT
    assert unzipped < UNZIPPED_LIMIT


ELF_MAGIC = b"\x7fELF"
ELF_MACHINE_AARCH64 = 183  # e_machine, a little-endian half-word at offset 18 of the ELF header


def test_every_native_library_in_the_package_is_built_for_arm64(package: zipfile.ZipFile):
    """The functions run on arm64: an x86_64 ``.so`` would not load there (or silently fall
    back to pure Python). Everything else in the package is pure Python."""
    native = [info.filename for info in package.infolist() if info.filename.endswith(".so")]
    machines = {}
    for name in native:
        header = package.read(name)[:20]
        assert header[:4] == ELF_MAGIC, name
        machines[name] = int.from_bytes(header[18:20], "little")
    assert machines == dict.fromkeys(native, ELF_MACHINE_AARCH64)


def test_every_wheel_in_the_package_is_pure_python_or_built_for_arm64(package: zipfile.ZipFile):
    tags = {}
    for name in package.namelist():
        if name.endswith(".dist-info/WHEEL"):
            text = package.read(name).decode()
            tags[name] = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    assert tags
    wrong = {name: found for name, found in tags.items()
             if not all(tag.endswith(("-none-any", "_aarch64")) for tag in found)}
    assert wrong == {}
