"""Reading an import file: a platform's export, or Relais's generic columns, into rows (issue 24).

Pure: reads the stream it is given, nothing else (no clock, no store). The import job
(``POST …/imports``) calls :func:`read_rows` and applies what it yields: a row, or a
:class:`RowError` naming the line (the other rows still apply). A problem with the whole
file (not CSV, empty, wrong columns, an unknown preset) is a :class:`FileError`, raised by
:func:`read_rows` itself, before any row is read: the import fails and applies nothing.

The file: UTF-8 (a BOM is dropped), UTF-16 with its BOM, or Windows-1252 (what a French
Excel saves) when it is not UTF-8; separated by ``,``, ``;`` or tabs, whichever splits the
header row into the most columns; quoted fields may hold separators and line breaks. A
row's ``line`` is the physical line it starts on, the header's being 1 when it opens the
file. Blank lines are skipped. A cell written as a spreadsheet text formula (``="0042"``,
which some exports use to keep leading zeros) is read as its text.

Two layouts (:class:`Preset`): the generic columns, which always work (``pledge_id,amount,
currency,status,occurred_at,tag`` for ``pledges``, ``tag,pledges,amount,currency`` for
``tag_totals``: amounts in minor units, as in the API), and the presets, one per platform
export whose columns a public source shows (:data:`PRESETS`; each cites its source, as
``docs/platforms.md`` does). Header names match whatever their case, spacing, or ``_``
for a space.

Each row yields at most one :class:`RowError`, for its first problem, in the order of the
columns above. Codes: ``invalid_row`` (more cells than the header), ``invalid_pledge_id``,
``duplicate_pledge_id`` (second and later rows of one id), ``invalid_amount``,
``invalid_currency``, ``invalid_status``, ``unsettled_status`` (the platform has not
settled the pledge yet: not imported, import the file again later), ``invalid_occurred_at``,
``invalid_tag``; for ``tag_totals`` also ``duplicate_tag`` and ``invalid_pledges``.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from chalicelib.core.validation import MAX_INT
from chalicelib.domain.currencies import is_currency, minor_digits

MAX_FILE_BYTES = 100 * 1024 * 1024
"""The largest file an import reads: an upload's limit (a 25,000-backer Kickstarter report is
~7 MB); a file sent in the request holds at most 5 MB (``domain.imports``)."""
KINDS = ("tag_totals", "pledges")
FUTURE_SKEW = timedelta(days=1)
"""How far past ``now`` a pledge's time may lie (clocks and time zones) before it is an error."""
MAX_PLEDGE_ID = 128  # as in the pledges API
TAG = re.compile(r"[a-z0-9-]{1,20}")
"""A platform tag (lower-cased first): Indiegogo's and Goteo's rule, the shape of Relais's."""
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class PledgeRow:
    line: int
    pledge_id: str
    amount: int  # minor units, > 0
    currency: str
    status: str  # "confirmed" | "refunded" | "cancelled"
    occurred_at: datetime  # aware, UTC
    tag: str | None  # the platform tag (lower case), or None: direct


@dataclass(frozen=True)
class TagTotalRow:
    line: int
    tag: str
    pledges: int  # >= 0
    amount: int  # minor units, >= 0
    currency: str


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    message: str


Row = PledgeRow | TagTotalRow | RowError


class FileError(Exception):
    """The whole file cannot be imported: ``code`` and a ``message`` for the creator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AmountError(ValueError):
    """An amount that cannot be read exactly; ``code`` is ``invalid_amount`` or ``invalid_currency``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Preset:
    """How one file layout's columns become a row.

    ``columns`` maps each field (``pledge_id``, ``amount``, ``currency``, ``status``,
    ``occurred_at``, ``tag``; for ``tag_totals`` ``tag``, ``pledges``, ``amount``,
    ``currency``) to its header as the export writes it; ``required`` are those the header
    must have. ``statuses`` maps the export's wording of a status (lower case) to Relais's,
    or to ``None`` for one the platform has not settled yet. ``printed`` amounts are read as
    the platform prints them (``SEK 1,000.00``), else as an integer of minor units.
    ``strict`` (the generic columns): a column the layout does not know is an error, and a
    tag that is no tag is a row error; a preset ignores other columns and reads a value
    that cannot be a tag as someone else's referrer (direct). ``needs_currency``: the
    amounts name no currency, so the campaign's (``read_rows(currency=…)``) is required.
    """

    name: str
    kind: str
    platform: str | None  # a ``domain.platforms`` name; None for the generic columns
    title: str
    source: str  # where a public source shows these columns (also in docs/platforms.md)
    columns: Mapping[str, str]
    required: frozenset[str]
    statuses: Mapping[str, str | None]
    printed: bool = True
    strict: bool = False
    needs_currency: bool = False


_CONFIRMED, _REFUNDED, _CANCELLED = "confirmed", "refunded", "cancelled"
_API_STATUSES: Mapping[str, str | None] = {
    "": _CONFIRMED, _CONFIRMED: _CONFIRMED, _REFUNDED: _REFUNDED, _CANCELLED: _CANCELLED, "canceled": _CANCELLED}

GENERIC: Mapping[str, Preset] = {
    "pledges": Preset(
        name="generic", kind="pledges", platform=None, title="the generic pledges columns",
        source="docs/platforms.md#importing",
        columns={field: field for field in ("pledge_id", "amount", "currency", "status", "occurred_at", "tag")},
        required=frozenset({"pledge_id", "amount", "currency"}), statuses=_API_STATUSES,
        printed=False, strict=True),
    "tag_totals": Preset(
        name="generic", kind="tag_totals", platform=None, title="the generic tag_totals columns",
        source="docs/platforms.md#importing",
        columns={field: field for field in ("tag", "pledges", "amount", "currency")},
        required=frozenset({"tag", "pledges", "amount", "currency"}), statuses={}, printed=False, strict=True),
}
"""The generic columns of each kind (no preset): what the API takes, always accepted."""

KICKSTARTER_BACKERS = Preset(
    name="kickstarter_backers", kind="pledges", platform="kickstarter", title="Kickstarter's backer report",
    source="https://github.com/helmgast/lore/blob/master/tests/model_shop_import_test.py",
    columns={"pledge_id": "Backer Number", "amount": "Pledge Amount", "status": "Pledged Status",
             "occurred_at": "Pledged At"},
    required=frozenset({"pledge_id", "amount", "status", "occurred_at"}),
    statuses={"collected": _CONFIRMED, "disputed": _CONFIRMED, "dropped": _CANCELLED, "cancelled": _CANCELLED,
              "canceled": _CANCELLED, "refunded": _REFUNDED,
              "errored": None, "error": None, "authentication required": None})
"""Kickstarter's backer report, one row per backer (it exists once a project has succeeded).
Sources: a backer row with these columns and values (``SEK 1,000.00``, ``2018/03/28, 10:27``,
``collected``) in https://github.com/helmgast/lore/blob/master/tests/model_shop_import_test.py;
the same columns in https://github.com/pointybeard-archives/kickstarter-export-parser; the
statuses in https://help.kickstarter.com/hc/en-us/articles/115005139073 (collected, cancelled,
errored, authentication required, dropped, disputed: collected, being charged back); a
``Backer Number`` is given once and kept, https://help.kickstarter.com/hc/fr/articles/360047255814.
No referral column: every pledge is direct (to reconcile the totals)."""

INDIEGOGO_CONTRIBUTIONS = Preset(
    name="indiegogo_contributions", kind="pledges", platform="indiegogo",
    title="Indiegogo's contributions CSV",
    source="https://github.com/functionland/testnet-server/blob/52c85bf38253398ce3a71455d638779e1f864ba3/README.md",
    columns={"pledge_id": "Pledge ID", "amount": "Amount", "occurred_at": "Funding Date", "tag": "Referrer ID"},
    required=frozenset({"pledge_id", "amount", "occurred_at", "tag"}), statuses={})
"""Indiegogo's (legacy) contributions export, whose 45-column header (``Order No., Pledge ID,
Referrer ID, Fulfillment Status, Funding Date, …, Amount, …``) is listed in
https://github.com/functionland/testnet-server/blob/52c85bf38253398ce3a71455d638779e1f864ba3/README.md.
No payment status (``Fulfillment Status`` is the perk's shipping): every row is a confirmed
contribution. ``Referrer ID``: the referral id the Referrals dashboard shows per referrer,
https://support.indiegogo.com/hc/en-us/articles/360019829992-How-to-Use-Your-Referrals-Dashboard."""

ULULE_ORDERS = Preset(
    name="ulule_orders", kind="pledges", platform="ulule", title="Ulule's order export",
    source="https://github.com/ulule/developers.ulule.com/blob/master/content/docs/ulule-api/reference/export.md",
    columns={"pledge_id": "order.id", "amount": "order.total", "status": "order.status",
             "occurred_at": "order.created_at", "tag": "order.tracking.source"},
    required=frozenset({"pledge_id", "amount", "status", "occurred_at", "tag"}),
    statuses={"payment-completed": _CONFIRMED, "payment-done": _CONFIRMED, "cancelled": _CANCELLED,
              "payment-invalid": _CANCELLED, "payment-reimbursed": _REFUNDED,
              "processing": None, "awaiting-confirmation": None, "error": None},
    needs_currency=True)
"""Ulule's order export, its columns named by their keys: the export API names each header
after its ``columns`` payload, and lists the keys, in
https://github.com/ulule/developers.ulule.com/blob/master/content/docs/ulule-api/reference/export.md;
the statuses as the same reference's Order page describes them. The amount is in the
project's currency, which the export does not name."""

PRESETS: Mapping[str, Preset] = {preset.name: preset for preset in (
    KICKSTARTER_BACKERS, INDIEGOGO_CONTRIBUTIONS, ULULE_ORDERS)}
"""Every preset by name (``?preset=<name>``). None for ``tag_totals``: no public source shows
the columns of a platform's per-tag export (docs/platforms.md)."""


def read_rows(stream: BinaryIO, kind: str, preset: str | None, now: datetime, *,
              currency: str | None = None) -> Iterator[Row]:
    """The rows of the file ``stream`` holds, in order, as ``kind`` (:data:`KINDS`) laid out
    as ``preset`` (a :data:`PRESETS` name) or, with ``None``, the generic columns.

    ``now`` (aware) bounds the pledges' times (:data:`FUTURE_SKEW`) and is the time of a
    generic row whose ``occurred_at`` is empty or absent. ``currency``, the campaign's, is
    that of amounts that print none or only an ambiguous symbol (``$12``, ``¥1,200``).
    Raises :class:`FileError` at once, before any row, for a file that cannot be imported.
    """
    layout = _layout(kind, preset)
    if currency is not None and not is_currency(currency):
        raise ValueError(f"currency must be an ISO-4217 code, not {currency!r}")
    if layout.needs_currency and currency is None:
        raise FileError("currency_required", f"{layout.title} does not say which currency its amounts are in: "
                                             "give the campaign a goal currency first.")
    text = _decode(_read(stream))
    delimiter, header = _header(text)
    positions = _positions(layout, header)
    _check_quoting(text, delimiter)
    reader = _PledgeReader(layout, now, currency) if kind == "pledges" else _TagTotalReader()
    return _rows(text, delimiter, len(header), positions, reader)


def _layout(kind: str, preset: str | None) -> Preset:
    if kind not in KINDS:
        raise FileError("invalid_kind", f"kind must be one of: {', '.join(KINDS)}.")
    if preset is None:
        return GENERIC[kind]
    layout = PRESETS.get(preset)
    if layout is None:
        raise FileError("unknown_preset", f"No preset is named {preset[:40]!r}; presets: {', '.join(PRESETS)}.")
    if layout.kind != kind:
        raise FileError("preset_not_for_kind", f"The preset {preset} reads {layout.kind}, not {kind}.")
    return layout


# The bytes -------------------------------------------------------------------------------------

def _read(stream: BinaryIO) -> bytes:
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileError("file_too_large", f"The file is over {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    return data


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise FileError("not_csv", "This is a ZIP archive (an .xlsx workbook, or Kickstarter's zip of reports), "
                                   "not CSV: export or unzip the CSV file and import that.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in data:
        raise FileError("not_csv", "This file is binary (it holds NUL bytes), not CSV text.")
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text.removeprefix("\ufeff")
    raise FileError("not_csv", "This file is not text in UTF-8, UTF-16 or Windows-1252: save it as CSV (UTF-8).")


# The CSV ---------------------------------------------------------------------------------------

def _records(text: str, delimiter: str, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record of ``text`` with the physical line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _header(text: str) -> tuple[str, list[str]]:
    """The separator (the one splitting the header into the most columns, ``,`` on a tie)
    and the header's cells."""
    best: tuple[str, list[str]] | None = None
    for delimiter in DELIMITERS:
        try:
            first = next(_records(text, delimiter), None)
        except csv.Error as error:
            raise FileError("not_csv", f"The first row is not CSV ({error}).") from None
        if first is not None and (best is None or len(first[1]) > len(best[1])):
            best = delimiter, first[1]
    if best is None:
        raise FileError("empty_file", "The file is empty: it needs a header row, then one row per line.")
    return best


def _key(name: str) -> str:
    """A header name or a status as compared: case, spacing and ``_`` for a space aside."""
    return " ".join(unicodedata.normalize("NFKC", name).replace("_", " ").casefold().split())


def _positions(layout: Preset, header: list[str]) -> dict[str, int]:
    """Which column holds each of the layout's fields; a :class:`FileError` names the
    missing, repeated or (generic columns) unknown ones."""
    keys = [_key(name) for name in header]
    wanted = {_key(name): field for field, name in layout.columns.items()}
    repeated = sorted({header[i].strip() for i, key in enumerate(keys) if key in wanted and keys.count(key) > 1})
    if repeated:
        raise FileError("duplicate_columns", f"The header repeats the column(s) {', '.join(repeated)}.")
    positions = {wanted[key]: i for i, key in enumerate(keys) if key in wanted}
    missing = [layout.columns[field] for field in layout.columns if field in layout.required and field not in positions]
    if missing:
        raise FileError("missing_columns", f"The file has no column {', '.join(missing)} ({_expected(layout)}). "
                                           f"Its header reads: {_shown(header)}.")
    unknown = [name.strip() for name, key in zip(header, keys, strict=True) if key and key not in wanted]
    if layout.strict and unknown:
        raise FileError("unknown_columns", f"Unknown column(s) {_shown(unknown)} ({_expected(layout)}).")
    return positions


def _expected(layout: Preset) -> str:
    optional = [name for field, name in layout.columns.items() if field not in layout.required]
    names = ", ".join(name for field, name in layout.columns.items() if field in layout.required)
    return f"{layout.title}: {names}" + (f", and optionally {', '.join(optional)}" if optional else "")


def _shown(names: list[str]) -> str:
    text = ", ".join(name.strip() or "(empty)" for name in names)
    return text if len(text) <= 200 else text[:199] + "…"


def _check_quoting(text: str, delimiter: str) -> None:
    """The whole file parses as CSV (a quote left open would swallow every line after it)."""
    line = 1
    try:
        for start, _ in _records(text, delimiter, strict=True):
            line = start
    except csv.Error as error:
        raise FileError("not_csv", f"After line {line} the file is not well-formed CSV ({error}): "
                                   "check that every quoted field is closed.") from None


_TEXT_FORMULA = re.compile(r'="(.*)"', re.S)


def _cell(text: str) -> str:
    text = text.strip()
    formula = _TEXT_FORMULA.fullmatch(text)
    return formula.group(1).replace('""', '"').strip() if formula else text


def _rows(text: str, delimiter: str, width: int, positions: dict[str, int],
          reader: _PledgeReader | _TagTotalReader) -> Iterator[Row]:
    records = _records(text, delimiter, strict=True)
    next(records)  # the header
    for line, cells in records:
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            yield RowError(line, "invalid_row", f"This row has {len(cells)} cells, the header {width}: "
                                                "is a separator inside an unquoted value?")
            continue
        values = {field: _cell(cells[i]) if i < len(cells) else "" for field, i in positions.items()}
        try:
            yield reader.row(line, values)
        except _Invalid as invalid:
            yield RowError(line, invalid.code, invalid.message)


# A row -----------------------------------------------------------------------------------------

class _PledgeReader:
    def __init__(self, layout: Preset, now: datetime, currency: str | None) -> None:
        self.layout, self.now, self.currency = layout, now, currency
        self.seen: dict[str, int] = {}

    def row(self, line: int, values: dict[str, str]) -> PledgeRow:
        pledge_id = values["pledge_id"]
        if not 0 < len(pledge_id) <= MAX_PLEDGE_ID or not pledge_id.isprintable():
            raise _Invalid("invalid_pledge_id", f"pledge_id must be 1 to {MAX_PLEDGE_ID} printable characters.")
        first = self.seen.setdefault(pledge_id, line)
        if first != line:
            raise _Invalid("duplicate_pledge_id", f"The pledge {pledge_id} is already on line {first}.")
        amount, currency = self._money(values)
        return PledgeRow(line, pledge_id, amount, currency, self._status(values), self._time(values),
                         _tag(values.get("tag", ""), self.layout.strict))

    def _money(self, values: dict[str, str]) -> tuple[int, str]:
        """Generic: an integer of minor units and a currency column; a preset: the amount as
        printed, in the currency its column, its text or the campaign names."""
        if not self.layout.printed:
            amount = _minor(values["amount"], "invalid_amount", "amount", zero=False)
            return amount, _currency(values["currency"])
        currency = _currency(values["currency"]) if "currency" in values else self.currency
        try:
            return parse_amount(values["amount"], currency)
        except AmountError as error:
            raise _Invalid(error.code, str(error)) from None

    def _status(self, values: dict[str, str]) -> str:
        if "status" not in self.layout.columns:
            return _CONFIRMED
        wording = values.get("status", "")
        key = _key(wording)
        if key not in self.layout.statuses:
            known = ", ".join(word for word in self.layout.statuses if word)
            said = f"The status {wording[:40]!r} is not" if wording else "The status is empty: it must be"
            raise _Invalid("invalid_status", f"{said} one of {known}.")
        status = self.layout.statuses[key]
        if status is None:
            raise _Invalid("unsettled_status", f"The platform has not settled this pledge yet ({wording!r}): "
                                               "it is not imported; import the file again once it has.")
        return status

    def _time(self, values: dict[str, str]) -> datetime:
        """The pledge's time; in the generic columns, as in the API, none is the import's."""
        text = values.get("occurred_at", "")
        if not text:
            if self.layout.platform is None:
                return self.now
            raise _Invalid("invalid_occurred_at", "The pledge's time is empty.")
        parsed = parse_time(text)
        if parsed is None:
            raise _Invalid("invalid_occurred_at", f"The time {text[:40]!r} is not one Relais reads: write it as "
                                                  "2026-11-02T14:05:00Z (ISO 8601; no offset is UTC).")
        if parsed.year < 2000:
            raise _Invalid("invalid_occurred_at", f"The time {text[:40]!r} is before 2000.")
        if parsed > self.now + FUTURE_SKEW:
            raise _Invalid("invalid_occurred_at", f"The time {text[:40]!r} is in the future.")
        return parsed


class _TagTotalReader:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def row(self, line: int, values: dict[str, str]) -> TagTotalRow:
        tag = _tag(values["tag"], strict=True)
        if tag is None:
            raise _Invalid("invalid_tag", "tag is empty: each row is one platform tag's figures.")
        first = self.seen.setdefault(tag, line)
        if first != line:
            raise _Invalid("duplicate_tag", f"The tag {tag} is already on line {first}.")
        pledges = _minor(values["pledges"], "invalid_pledges", "pledges", zero=True)
        amount = _minor(values["amount"], "invalid_amount", "amount", zero=True)
        return TagTotalRow(line, tag, pledges, amount, _currency(values["currency"]))


def _tag(text: str, strict: bool) -> str | None:
    """The lower-cased tag, ``None`` (direct) for none; a value that cannot be a tag is a row
    error under the generic columns, someone else's referrer (direct) in a platform's export."""
    tag = text.lower()
    if not tag or TAG.fullmatch(tag):
        return tag or None
    if strict:
        raise _Invalid("invalid_tag", f"The tag {text[:40]!r} is not a platform tag: at most 20 letters, "
                                      "digits or '-'.")
    return None


def _currency(text: str) -> str:
    code = text.upper()
    if not is_currency(code):
        what = f"{text[:20]!r} is not" if text else "The currency is empty: it must be"
        raise _Invalid("invalid_currency", f"{what} an ISO-4217 currency code such as EUR.")
    return code


def _minor(text: str, code: str, name: str, zero: bool) -> int:
    """An integer count or amount in minor units (``1250`` for 12.50 EUR)."""
    if not text.isascii() or not text.isdigit():
        hint = " in minor units: 1250 for 12.50 EUR" if name == "amount" else ""
        raise _Invalid(code, f"{name} must be a whole number{hint}, not {text[:40]!r}.")
    value = int(text) if len(text) <= 16 else MAX_INT + 1
    if value > MAX_INT or (value == 0 and not zero):
        raise _Invalid(code, f"{name} must be more than 0." if value == 0 else f"{name} is too large.")
    return value


# Times -----------------------------------------------------------------------------------------

_SLASHED = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SPACED_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def parse_time(text: str) -> datetime | None:
    """An export's time as an aware UTC datetime, or ``None``: ISO 8601 (``2026-11-02``,
    ``2026-11-02 14:05``, ``2026-11-02T14:05:00+01:00``, ``…Z``, ``… +0100``, ``… UTC``)
    or Kickstarter's ``2026/11/02, 14:05``. A time without offset is UTC."""
    text = _SPACED_OFFSET.sub(r"\1", text.strip().removesuffix(" UTC").removesuffix(" GMT"))
    slashed = _SLASHED.fullmatch(text)
    try:
        if slashed:
            year, month, day, hour, minute, second = (int(part) for part in slashed.groups(default="0"))
            parsed = datetime(year, month, day, hour, minute, second)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


# Amounts as printed ----------------------------------------------------------------------------

_DOLLARS = frozenset({"USD", "AUD", "CAD", "NZD", "HKD", "SGD", "MXN", "ARS", "CLP", "COP", "CUP", "DOP", "UYU",
                      "TWD", "BBD", "BMD", "BND", "BSD", "BZD", "FJD", "GYD", "JMD", "KYD", "LRD", "NAD", "SBD",
                      "SRD", "TTD", "XCD"})
_SYMBOLS: Mapping[str, frozenset[str]] = {
    "$": _DOLLARS, "US$": frozenset({"USD"}), "A$": frozenset({"AUD"}), "AU$": frozenset({"AUD"}),
    "C$": frozenset({"CAD", "NIO"}), "CA$": frozenset({"CAD"}), "NZ$": frozenset({"NZD"}),
    "HK$": frozenset({"HKD"}), "S$": frozenset({"SGD"}), "SG$": frozenset({"SGD"}), "MX$": frozenset({"MXN"}),
    "R$": frozenset({"BRL"}), "NT$": frozenset({"TWD"}), "€": frozenset({"EUR"}), "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}), "JP¥": frozenset({"JPY"}), "CN¥": frozenset({"CNY"}),
    "KR": frozenset({"SEK", "NOK", "DKK", "ISK"}), "ZŁ": frozenset({"PLN"}), "KČ": frozenset({"CZK"}),
    "FT": frozenset({"HUF"}), "₹": frozenset({"INR"}), "₩": frozenset({"KRW"}), "₽": frozenset({"RUB"}),
    "₺": frozenset({"TRY"}), "₪": frozenset({"ILS"}), "฿": frozenset({"THB"}), "₫": frozenset({"VND"}),
    "₱": frozenset({"PHP"}), "₴": frozenset({"UAH"}), "₦": frozenset({"NGN"}),
}
"""Currency symbols and the currencies each may stand for (``$`` and ``¥`` several: alone,
they need the currency named elsewhere)."""
_PRINTED = re.compile(r"(?P<before>[^\d\s]*)\s*(?P<number>\d(?:[\d.,' ’]*\d)?)\s*(?P<after>[^\d\s]*)")
_CODE = re.compile(r"(?<![^\W\d_])[A-Za-z]{3}(?![^\W\d_])")
_GROUPS = re.compile(r"\d+|\d{1,3}(?P<s>[ ,.'’])\d{3}(?:(?P=s)\d{3})*"
                     r"|\d{1,2}(?P<i>[ ,])\d{2}(?:(?P=i)\d{2})*(?P=i)\d{3}")
"""A whole part: plain digits, thousands grouped by one separator, or lakhs (``12,34,567``)."""


def parse_amount(text: str, currency: str | None) -> tuple[int, str]:
    """``(amount in minor units, currency)`` of an amount as a platform prints it: ``SEK
    1,000.00``, ``1 000,00 €`` (any kind of space), ``$1,234.56``, ``1.234,56 €``, ``€12``,
    ``¥1,200``, ``KWD 1.250``; exactly (integers only), or :class:`AmountError`.

    ``currency`` is the one the amount is known to be in (a currency column, the campaign's),
    or ``None``. A code in the text must agree with it and a symbol must be one of its
    (``€`` for USD is an error); a symbol that stands for several currencies (``$``, ``¥``,
    ``kr``) needs it. Decimals beyond the currency's are an error unless they are zeros
    (``JPY 1,200.00``). A lone ``,`` or ``.`` followed by three digits groups thousands
    (``1,000``, ``1.000``), except for a three-decimal currency, where ``.`` is its decimal
    point (``KWD 1.250``) and ``,`` too ambiguous to read. The amount must be more than 0.
    """
    words = unicodedata.normalize("NFKC", text).strip()
    if any(sign in words for sign in "-−(") or not words:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} must be more than 0." if words
                          else "The amount is empty.")
    codes = {code.upper() for code in _CODE.findall(words)}
    rest = _CODE.sub(" ", words).strip()
    printed = _PRINTED.fullmatch(rest)
    if len(codes) > 1 or printed is None or (printed["before"] and printed["after"]):
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} is not one Relais reads, such as "
                                            "'EUR 1,250.00' or '1 250,00 €'.")
    resolved = _resolve(text, codes.pop() if codes else None, printed["before"] + printed["after"], currency)
    return _exact(printed["number"], resolved, text), resolved


def _resolve(text: str, code: str | None, symbol: str, currency: str | None) -> str:
    """The currency an amount is in, from its code, its symbol and the one known otherwise."""
    if code is not None and not is_currency(code):
        raise AmountError("invalid_currency", f"{code} in {text[:40]!r} is not an ISO-4217 currency code.")
    if code is not None and currency is not None and code != currency:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} is in {code}, not {currency}.")
    known = code or currency
    fits = _SYMBOLS.get(symbol.upper().rstrip(".")) if symbol else None
    if symbol and fits is None:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} has a symbol Relais does not know: "
                                            "write the currency's code (EUR, USD…).")
    if known is not None and fits is not None and known not in fits:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} is not in {known}: its symbol is "
                                            f"{'/'.join(sorted(fits))}'s.")
    if known is not None:
        return known
    if fits is not None and len(fits) == 1:
        return next(iter(fits))
    which = f"{symbol} stands for several currencies" if fits else "it names no currency"
    raise AmountError("invalid_currency", f"The amount {text[:40]!r} is in no one currency ({which}): "
                                          "a currency column or the campaign's currency is needed.")


def _exact(number: str, currency: str, text: str) -> int:
    digits = minor_digits(currency)
    whole, fraction = _split(number, digits, text)
    if not _GROUPS.fullmatch(whole):
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} groups its digits in a way Relais "
                                            "does not read.")
    extra = fraction[digits:]
    if extra.strip("0"):
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} has more decimals than {currency} "
                                            f"has ({digits}).")
    units = re.sub(r"\D", "", whole)
    if len(units) > 16:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} is too large.")
    value = int(units) * 10 ** digits + int(fraction[:digits].ljust(digits, "0") or "0")
    if value == 0:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} must be more than 0.")
    if value > MAX_INT:
        raise AmountError("invalid_amount", f"The amount {text[:40]!r} is too large.")
    return value


def _split(number: str, digits: int, text: str) -> tuple[str, str]:
    """``(whole part with its grouping, decimals)``: the last of ``.`` and ``,`` is the
    decimal point when both appear; a lone one is, unless it looks like thousands."""
    marks = [mark for mark in (".", ",") if mark in number]
    if not marks:
        return number, ""
    last = max(marks, key=number.rindex)
    whole, _, fraction = number.rpartition(last)
    if len(marks) == 2 or (number.count(last) == 1 and not _thousands(whole, fraction, last, digits, text)):
        if not fraction.isdigit():
            raise AmountError("invalid_amount", f"The amount {text[:40]!r} has spaces in its decimals.")
        return whole, fraction
    return number, ""


def _thousands(whole: str, fraction: str, mark: str, digits: int, text: str) -> bool:
    """Whether the only ``mark`` in an amount groups thousands (``1,000``) rather than
    being its decimal point (``12,50``, ``0.005``)."""
    if len(fraction) != 3 or not whole or whole.startswith("0") or re.search(r"\D", whole):
        return False
    if digits != 3:
        return True
    if mark == ".":
        return False
    raise AmountError("invalid_amount", f"The amount {text[:40]!r} could be thousands or decimals: write "
                                        "it with all its decimals (1,250.000).")
