"""Import files (issue 24): the generic columns and each preset's sample read to the rows they
hold, amounts as platforms print them read exactly, and every bad file or row named.

The samples and what each holds: tests/fixtures/imports/README.md.
"""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.domain import import_files
from chalicelib.domain.import_files import (
    MAX_FILE_BYTES,
    PRESETS,
    AmountError,
    FileError,
    PledgeRow,
    RowError,
    TagTotalRow,
    parse_amount,
    read_rows,
)

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HEADER = "pledge_id,amount,currency,status,occurred_at,tag\n"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def rows(data: bytes | str, kind: str = "pledges", preset: str | None = None, currency: str | None = None,
         now: datetime = NOW) -> list:
    raw = data.encode() if isinstance(data, str) else data
    return list(read_rows(io.BytesIO(raw), kind, preset, now, currency=currency))


def sample(name: str, kind: str = "pledges", preset: str | None = None, currency: str | None = None) -> list:
    return rows((SAMPLES / name).read_bytes(), kind, preset, currency)


def file_error(data: bytes | str, kind: str = "pledges", preset: str | None = None,
               currency: str | None = None) -> FileError:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(FileError) as caught:
        read_rows(io.BytesIO(raw), kind, preset, NOW, currency=currency)  # raises before any row is asked for
    return caught.value


def errors(found: list) -> list[tuple[int, str]]:
    return [(row.line, row.code) for row in found if isinstance(row, RowError)]


def pledge(line: int, pledge_id: str, amount: int, when: str, tag: str | None = None, status: str = "confirmed",
           currency: str = "EUR") -> PledgeRow:
    return PledgeRow(line, pledge_id, amount, currency, status, at(when), tag)


GENERIC_PLEDGES = [
    pledge(2, "p-1001", 2500, "2026-10-12T09:14:00Z", "3q2i76ye84"),
    pledge(3, "p-1002", 4500, "2026-10-12T11:02:31Z", "3q2i76ye84-2"),
    pledge(4, "p-1003", 1500, "2026-10-13T18:40:00Z"),
    pledge(5, "p-1004", 12000, "2026-10-14T07:55:12Z", "2iqk7cmbzd"),
    pledge(6, "p-1005", 2500, "2026-10-15T20:10:00Z", "2iqk7cmbzd-1", "refunded"),
    pledge(7, "p-1006", 3500, "2026-10-16T11:00:00Z", "3py2ufengt"),
    pledge(8, "p-1007", 2500, "2026-10-18T08:30:00Z", None, "cancelled"),
    pledge(9, "p-1008", 9900, "2026-10-21T16:45:00Z", "42zonpos5x"),
    pledge(10, "p-1009", 2500, "2026-10-25T10:05:00Z", "3q2i76ye84"),
    pledge(11, "p-1010", 5000, "2026-11-02T14:05:00Z", "3921ew2pde-2"),
    pledge(12, "p-1011", 1500, "2026-11-03T09:00:00Z", "2cinfv1y2z"),
    pledge(13, "p-1012", 2000, "2026-11-04T19:30:00Z"),
]


# The samples ---------------------------------------------------------------------------------

def test_the_generic_pledges_sample_reads_to_its_twelve_pledges():
    assert sample("generic-pledges.csv") == GENERIC_PLEDGES


def test_the_corrected_generic_pledges_sample_differs_in_two_statuses_one_amount_and_one_new_pledge():
    first = {row.pledge_id: row for row in sample("generic-pledges.csv")}
    corrected = {row.pledge_id: row for row in sample("generic-pledges-corrected.csv")}
    changed = {pledge_id: (first[pledge_id].status, first[pledge_id].amount, row.status, row.amount)
               for pledge_id, row in corrected.items() if pledge_id in first and row != first[pledge_id]}
    assert changed == {"p-1003": ("confirmed", 1500, "refunded", 1500),
                       "p-1004": ("confirmed", 12000, "confirmed", 12500),
                       "p-1008": ("confirmed", 9900, "cancelled", 9900)}
    assert corrected.keys() - first.keys() == {"p-1013"}
    assert corrected["p-1013"] == pledge(14, "p-1013", 3000, "2026-11-06T08:12:00Z", "2vlfy68ga8")


def test_the_generic_tag_totals_sample_reads_to_its_eight_tags():
    assert sample("generic-tag-totals.csv", "tag_totals") == [
        TagTotalRow(2, "3q2i76ye84", 2, 5000, "EUR"), TagTotalRow(3, "3q2i76ye84-2", 1, 4500, "EUR"),
        TagTotalRow(4, "2iqk7cmbzd", 1, 12000, "EUR"), TagTotalRow(5, "2iqk7cmbzd-1", 0, 0, "EUR"),
        TagTotalRow(6, "3py2ufengt", 1, 3500, "EUR"), TagTotalRow(7, "42zonpos5x", 1, 9900, "EUR"),
        TagTotalRow(8, "3921ew2pde-2", 1, 5000, "EUR"), TagTotalRow(9, "2cinfv1y2z", 1, 1500, "EUR")]


def test_the_later_tag_totals_snapshot_moves_two_tags_and_adds_one():
    first = {row.tag: row for row in sample("generic-tag-totals.csv", "tag_totals")}
    later = {row.tag: row for row in sample("generic-tag-totals-later.csv", "tag_totals")}
    moved = {tag: (row.pledges, row.amount) for tag, row in later.items()
             if tag not in first or (first[tag].pledges, first[tag].amount) != (row.pledges, row.amount)}
    assert moved == {"3q2i76ye84": (3, 7500), "42zonpos5x": (0, 0), "2vlfy68ga8": (2, 6000)}


def test_the_errors_sample_names_each_bad_row_by_its_line():
    found = sample("generic-pledges-errors.csv")
    assert errors(found) == [
        (4, "invalid_amount"), (5, "invalid_amount"), (6, "invalid_amount"), (7, "invalid_currency"),
        (8, "invalid_status"), (9, "invalid_occurred_at"), (10, "invalid_occurred_at"), (11, "invalid_tag"),
        (12, "duplicate_pledge_id"), (13, "invalid_pledge_id"), (14, "invalid_pledge_id"), (17, "invalid_row")]
    assert [row for row in found if isinstance(row, PledgeRow)] == [
        pledge(2, "e-1", 2500, "2026-10-12T09:14:00Z", "3q2i76ye84"),
        pledge(16, "e-11", 2500, "2026-10-12T16:00:00Z", "3py2ufengt")]


def test_the_kickstarter_backer_report_reads_to_direct_pledges_in_its_currency():
    found = sample("kickstarter-backers.csv", preset="kickstarter_backers")

    def backer(line: int, number: str, amount: int, when: str, status: str = "confirmed") -> PledgeRow:
        return pledge(line, number, amount, when, None, status, "SEK")

    assert found == [
        backer(2, "1", 100000, "2026-10-01T10:27:00Z"), backer(3, "2", 75000, "2026-10-01T11:02:00Z"),
        backer(4, "3", 135000, "2026-10-02T08:15:00Z"), backer(6, "4", 20000, "2026-10-03T21:40:00Z", "cancelled"),
        backer(7, "5", 85000, "2026-10-05T14:03:00Z"),
        RowError(8, "unsettled_status", "The platform has not settled this pledge yet ('errored'): it is not "
                                        "imported; import the file again once it has."),
        backer(9, "7", 135000, "2026-10-11T07:31:00Z"), backer(10, "9", 65000, "2026-10-14T16:48:00Z", "refunded"),
        backer(11, "10", 80000, "2026-10-20T12:09:00Z")]


def test_the_indiegogo_contributions_export_reads_its_referrer_ids_as_tags_in_the_campaign_currency():
    found = sample("indiegogo-contributions.csv", preset="indiegogo_contributions", currency="USD")

    def contribution(line: int, pledge_id: str, amount: int, when: str, tag: str | None) -> PledgeRow:
        return pledge(line, pledge_id, amount, when, tag, currency="USD")

    assert found == [
        contribution(2, "23811377", 2500, "2026-10-20T18:42:07Z", "3q2i76ye84"),
        contribution(3, "23811592", 6000, "2026-10-20T19:03:51Z", None),
        contribution(5, "23812010", 2500, "2026-10-21T07:15:33Z", "2iqk7cmbzd-2"),
        contribution(6, "23812455", 125000, "2026-10-22T12:48:10Z", None),
        contribution(7, "23813001", 4500, "2026-10-23T22:05:44Z", "2cinfv1y2z"),
        contribution(8, "23813377", 1000, "2026-10-25T09:30:00Z", None),
        contribution(9, "23814120", 2500, "2026-11-01T16:20:18Z", "3q2i76ye84"),
        contribution(10, "23814512", 6000, "2026-11-04T11:11:11Z", "42zonpos5x-1")]


def test_an_indiegogo_export_without_the_campaign_currency_makes_each_dollar_amount_a_row_error():
    found = sample("indiegogo-contributions.csv", preset="indiegogo_contributions")
    assert {row.code for row in found} == {"invalid_currency"}
    assert len(found) == 8


def test_the_ulule_order_export_reads_tags_from_the_tracking_source_and_statuses_from_its_wording():
    found = sample("ulule-orders.csv", preset="ulule_orders", currency="EUR")
    assert found == [
        pledge(2, "7730141", 3500, "2026-10-03T17:22:41Z", "2vlfy68ga8"),
        pledge(3, "7730188", 6000, "2026-10-03T18:05:12Z"),
        pledge(4, "7730342", 3500, "2026-10-04T06:47:03Z", "facebook"),
        pledge(5, "7730519", 12000, "2026-10-05T10:30:55Z", "44lw6w1b8h-8"),
        pledge(6, "7730630", 3500, "2026-10-06T07:14:20Z", "2vlfy68ga8", "cancelled"),
        pledge(7, "7730777", 7250, "2026-10-08T20:01:37Z", "3zekixa5wt"),
        RowError(9, "unsettled_status", "The platform has not settled this pledge yet ('awaiting-confirmation'): "
                                        "it is not imported; import the file again once it has."),
        pledge(10, "7731052", 6000, "2026-10-12T16:40:16Z", None, "refunded")]


def test_a_ulule_export_without_the_campaign_currency_is_refused_as_a_whole():
    error = file_error((SAMPLES / "ulule-orders.csv").read_bytes(), preset="ulule_orders")
    assert error.code == "currency_required"


def test_each_preset_reads_pledges_for_its_platform_and_cites_a_public_source():
    assert {name: (preset.kind, preset.platform, preset.source.split("/")[2]) for name, preset in PRESETS.items()} == {
        "kickstarter_backers": ("pledges", "kickstarter", "github.com"),
        "indiegogo_contributions": ("pledges", "indiegogo", "github.com"),
        "ulule_orders": ("pledges", "ulule", "github.com")}


# Amounts as printed --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "currency", "expected"), [
    ("SEK 1,000.00", None, (100000, "SEK")),
    ("1 000,00 €", None, (100000, "EUR")),
    ("1\u202f000,00\u00a0€", None, (100000, "EUR")),  # narrow no-break space, no-break space
    ("1\u00a0234\u00a0567,89 €", "EUR", (123456789, "EUR")),
    ("$1,234.56", "USD", (123456, "USD")),
    ("1.234,56 €", None, (123456, "EUR")),
    ("€12", None, (1200, "EUR")),
    ("12,5 €", None, (1250, "EUR")),
    ("¥1,200", "JPY", (1200, "JPY")),
    ("JPY 1,200.00", None, (1200, "JPY")),
    ("1.000", "JPY", (1000, "JPY")),
    ("KWD 1.250", None, (1250, "KWD")),
    ("BHD 1,250.500", None, (1250500, "BHD")),
    ("$59.00 AUD", None, (5900, "AUD")),
    ("US$ 5", None, (500, "USD")),
    ("CHF 1'234.50", None, (123450, "CHF")),
    ("12,34,567.00", "INR", (123456700, "INR")),
    ("EUR 1.000.000,00", None, (100000000, "EUR")),
    ("1,000", "EUR", (100000, "EUR")),
    ("99 kr", "SEK", (9900, "SEK")),
    ("5 zł", None, (500, "PLN")),
    ("£7.5", None, (750, "GBP")),
    ("eur 12", None, (1200, "EUR")),
])
def test_an_amount_as_printed_reads_to_exact_minor_units(text, currency, expected):
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(("text", "currency", "code", "says"), [
    ("-12.00", "EUR", "invalid_amount", "more than 0"),
    ("−12", "EUR", "invalid_amount", "more than 0"),
    ("(12.00)", "USD", "invalid_amount", "more than 0"),
    ("0,00 €", None, "invalid_amount", "more than 0"),
    ("", "EUR", "invalid_amount", "empty"),
    ("twelve", "EUR", "invalid_amount", "not one Relais reads"),
    ("12.50", "JPY", "invalid_amount", "more decimals than JPY has (0)"),
    ("¥1,200.50", "JPY", "invalid_amount", "more decimals than JPY has (0)"),
    ("0.005", "USD", "invalid_amount", "more decimals than USD has (2)"),
    ("KWD 1,250", None, "invalid_amount", "thousands or decimals"),
    ("€12", "USD", "invalid_amount", "not in USD"),
    ("SEK 100.00", "EUR", "invalid_amount", "in SEK, not EUR"),
    ("USD 5 EUR", None, "invalid_amount", "not one Relais reads"),
    ("1,2.3", "EUR", "invalid_amount", "groups its digits"),
    ("1 00", "EUR", "invalid_amount", "groups its digits"),
    ("1 000,0 0 €", None, "invalid_amount", "spaces in its decimals"),
    ("12 ¤", "EUR", "invalid_amount", "symbol Relais does not know"),
    ("1" * 20, "EUR", "invalid_amount", "too large"),
    ("10000000000000.01", "EUR", "invalid_amount", "too large"),
    ("$1,234.56", None, "invalid_currency", "$ stands for several currencies"),
    ("¥1,200", None, "invalid_currency", "¥ stands for several currencies"),
    ("12.00", None, "invalid_currency", "names no currency"),
    ("XYZ 12.00", None, "invalid_currency", "XYZ"),
])
def test_an_amount_that_cannot_be_read_exactly_is_an_error_that_says_why(text, currency, code, says):
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency)
    assert caught.value.code == code
    assert says in str(caught.value)


def test_an_amount_error_is_a_value_error():
    with pytest.raises(ValueError, match="more than 0"):
        parse_amount("0", "EUR")


# The file ------------------------------------------------------------------------------------

def test_a_bom_and_semicolons_as_a_french_excel_writes_them_read_like_commas():
    text = "\ufeffpledge_id;amount;currency;status;occurred_at;tag\r\np-1;2500;EUR;confirmed;2026-10-12T09:14:00Z;\r\n"
    assert rows(text.encode("utf-8")) == [pledge(2, "p-1", 2500, "2026-10-12T09:14:00Z")]


def test_a_windows_1252_file_reads_its_euro_signs():
    text = "Backer Number;Pledge Amount;Pledged At;Pledged Status\r\n7;1 250,00 €;2026/10/01, 10:27;collected\r\n"
    found = rows(text.encode("cp1252"), preset="kickstarter_backers")
    assert found == [pledge(2, "7", 125000, "2026-10-01T10:27:00Z")]


def test_a_utf16_file_with_its_bom_and_tabs_reads():
    text = "tag\tpledges\tamount\tcurrency\n3q2i76ye84\t2\t5000\tEUR\n"
    assert rows(text.encode("utf-16"), "tag_totals") == [TagTotalRow(2, "3q2i76ye84", 2, 5000, "EUR")]


def test_a_quoted_line_break_keeps_each_row_on_the_line_it_starts():
    text = ("Backer Number,Pledge Amount,Pledged At,Pledged Status,Notes\n"
            '1,SEK 10.00,"2026/10/01, 10:00",collected,"one\ntwo\nthree"\n'
            "2,SEK 20.00,\"2026/10/01, 11:00\",collected,\n")
    assert [row.line for row in rows(text, preset="kickstarter_backers")] == [2, 5]


def test_blank_lines_are_skipped_and_still_counted():
    text = f"\n{HEADER}\np-1,100,EUR,,2026-10-01,\n  \n,,,,,\np-2,200,EUR,,2026-10-02,\n\n"
    assert [(row.line, row.pledge_id) for row in rows(text)] == [(4, "p-1"), (7, "p-2")]


def test_header_names_match_whatever_their_case_spacing_or_underscores():
    text = " Pledge ID ,AMOUNT,Currency, status,Occurred_At,TAG\np-1,100,eur,Confirmed,2026-10-01T00:00:00Z,\n"
    assert rows(text) == [pledge(2, "p-1", 100, "2026-10-01T00:00:00Z")]


def test_generic_pledges_need_only_an_id_an_amount_and_a_currency_and_date_the_rest_now():
    assert rows("pledge_id,amount,currency\np-1,100,EUR\n") == [PledgeRow(2, "p-1", 100, "EUR", "confirmed", NOW, None)]


def test_an_empty_generic_time_is_the_imports_time_as_in_the_api():
    assert rows(HEADER + "p-1,100,EUR,refunded,,\n") == [PledgeRow(2, "p-1", 100, "EUR", "refunded", NOW, None)]


def test_a_spreadsheet_text_formula_is_read_as_its_text():
    text = 'Pledge ID,Referrer ID,Funding Date,Amount\n"=""0042""","=""3q2i76ye84""",2026-10-20 18:42:07,$25.00\n'
    assert rows(text, preset="indiegogo_contributions", currency="USD") == [
        pledge(2, "0042", 2500, "2026-10-20T18:42:07Z", "3q2i76ye84", currency="USD")]


def test_a_preset_ignores_the_columns_it_does_not_read():
    text = ("Notes,Backer Number,Email,Pledge Amount,Pledged At,Pledged Status,Extra\n"
            "hi,1,a@example.com,€5,2026-10-01,collected,x\n")
    assert rows(text, preset="kickstarter_backers") == [pledge(2, "1", 500, "2026-10-01T00:00:00Z")]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b"\xef\xbb\xbf \r\n\r\n", "empty_file"),
    (b"pledge_id,amount\x00,currency\n", "not_csv"),
    (b"PK\x03\x04\x14\x00\x06\x00workbook", "not_csv"),
    (b"\xff\xfe\x00\xd8", "not_csv"),  # UTF-16 with a lone surrogate: undecodable
    (b"\x81\x8d\x8f\x90\x9d\xc3\x28", "not_csv"),  # neither UTF-8 nor Windows-1252
    ("pledge_id,amount\x00,currency\n".encode("utf-16"), "not_csv"),
    (b'"' + b"a" * 200_000 + b'"\n', "not_csv"),  # a header cell over the csv module's field limit
    (HEADER.encode() + b'p-1,100,EUR,confirmed,"2026-10-01,\np-2,200,EUR,,,\n', "not_csv"),  # a quote never closed
    (b"tag,pledges,amount,currency\n3q2i76ye84,1,100,EUR\n", "missing_columns"),
    (b"p-1,100,EUR\np-2,200,EUR\n", "missing_columns"),  # no header
    (b"pledge_id,amount,currency,note\np-1,100,EUR,hi\n", "unknown_columns"),
    (b"pledge_id,amount,currency,amount\np-1,100,EUR,100\n", "duplicate_columns"),
])
def test_a_file_that_cannot_be_imported_is_refused_before_any_row(data, code):
    assert file_error(data).code == code


def test_a_missing_column_error_names_the_missing_columns_and_the_header_it_found():
    error = file_error("pledge_id,amount,tag\np-1,100,\n")
    assert error.message == ("The file has no column currency (the generic pledges columns: pledge_id, amount, "
                             "currency, and optionally status, occurred_at, tag). Its header reads: pledge_id, "
                             "amount, tag.")


def test_an_unknown_generic_column_is_named():
    assert file_error("pledge_id,amount,currency,ocurred_at\n").message == (
        "Unknown column(s) ocurred_at (the generic pledges columns: pledge_id, amount, currency, and optionally "
        "status, occurred_at, tag).")


def test_a_campaign_currency_that_is_no_currency_is_the_callers_mistake():
    with pytest.raises(ValueError, match="ISO-4217"):
        read_rows(io.BytesIO(HEADER.encode()), "pledges", None, NOW, currency="euro")


def test_a_file_over_the_size_limit_is_refused():
    assert file_error(HEADER.encode() + b"x" * MAX_FILE_BYTES).code == "file_too_large"


@pytest.mark.parametrize(("kind", "preset", "code"), [
    ("pledges", "gamefound", "unknown_preset"),
    ("tag_totals", "kickstarter_backers", "preset_not_for_kind"),
    ("refunds", None, "invalid_kind"),
])
def test_an_unknown_kind_or_preset_or_one_for_another_kind_is_refused(kind, preset, code):
    assert file_error("tag,pledges,amount,currency\n", kind, preset).code == code


# A row ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "code"), [
    ("p-1,-100,EUR,,2026-10-01,", "invalid_amount"),
    ("p-1,0,EUR,,2026-10-01,", "invalid_amount"),
    ("p-1,12.50,EUR,,2026-10-01,", "invalid_amount"),
    ("p-1,abc,EUR,,2026-10-01,", "invalid_amount"),
    ("p-1,100,,,2026-10-01,", "invalid_currency"),
    ("p-1,100,XXX,,2026-10-01,", "invalid_currency"),
    ("p-1,100,EUR,pending,2026-10-01,", "invalid_status"),
    ("p-1,100,EUR,,yesterday,", "invalid_occurred_at"),
    ("p-1,100,EUR,,1999-12-31T23:59:59Z,", "invalid_occurred_at"),
    ("p-1,100,EUR,,2026-12-08T12:00:01Z,", "invalid_occurred_at"),  # a day and a second after now
    ("p-1,100,EUR,,2026-10-01,fan 42", "invalid_tag"),
    ("p-1,100,EUR,,2026-10-01,abcdefghij0123456789x", "invalid_tag"),  # 21 characters
    (f"{'p' * 129},100,EUR,,2026-10-01,", "invalid_pledge_id"),
    (",100,EUR,,2026-10-01,", "invalid_pledge_id"),
    ("p-1,100,EUR,,2026-10-01,,surplus", "invalid_row"),
])
def test_a_bad_generic_pledge_row_is_a_row_error_with_its_code(row, code):
    assert errors(rows(f"{HEADER}{row}\n")) == [(2, code)]


def test_a_pledge_a_day_ahead_of_now_is_still_accepted_for_clock_skew():
    found = rows(f"{HEADER}p-1,100,EUR,,2026-12-08T12:00:00Z,\n")
    assert found == [pledge(2, "p-1", 100, "2026-12-08T12:00:00Z")]


def test_a_bad_row_does_not_stop_the_rows_after_it():
    found = rows(f"{HEADER}p-1,oops,EUR,,2026-10-01,\np-2,200,EUR,,2026-10-02,\n")
    assert [type(row).__name__ for row in found] == ["RowError", "PledgeRow"]


def test_each_repeat_of_a_pledge_id_is_a_duplicate_naming_the_first_line():
    found = rows(f"{HEADER}p-1,100,EUR,,2026-10-01,\np-2,100,EUR,,2026-10-01,\np-1,100,EUR,,2026-10-01,\n"
                 "p-1,300,EUR,refunded,2026-10-01,\n")
    assert [(row.line, row.message) for row in found if isinstance(row, RowError)] == [
        (4, "The pledge p-1 is already on line 2."), (5, "The pledge p-1 is already on line 2.")]


def test_statuses_take_the_apis_words_and_the_us_spelling_of_cancelled():
    found = rows(f"{HEADER}a,1,EUR,Confirmed,2026-10-01,\nb,1,EUR,REFUNDED,2026-10-01,\nc,1,EUR,canceled,2026-10-01,\n")
    assert [row.status for row in found] == ["confirmed", "refunded", "cancelled"]


@pytest.mark.parametrize(("wording", "status"), [
    ("collected", "confirmed"), ("Collected", "confirmed"), ("disputed", "confirmed"), ("dropped", "cancelled"),
    ("cancelled", "cancelled"), ("canceled", "cancelled"), ("refunded", "refunded"),
])
def test_kickstarter_statuses_map_to_relais_statuses(wording, status):
    text = f"Backer Number,Pledge Amount,Pledged At,Pledged Status\n1,SEK 10.00,2026/10/01,{wording}\n"
    assert [row.status for row in rows(text, preset="kickstarter_backers")] == [status]


@pytest.mark.parametrize("wording", ["errored", "Authentication required"])
def test_a_kickstarter_pledge_not_yet_collected_is_left_for_a_later_import(wording):
    text = f"Backer Number,Pledge Amount,Pledged At,Pledged Status\n1,SEK 10.00,2026/10/01,{wording}\n"
    assert errors(rows(text, preset="kickstarter_backers")) == [(2, "unsettled_status")]


def test_a_preset_row_with_an_empty_status_or_time_is_an_error():
    text = "Backer Number,Pledge Amount,Pledged At,Pledged Status\n1,SEK 10.00,2026/10/01,\n2,SEK 10.00,,collected\n"
    assert errors(rows(text, preset="kickstarter_backers")) == [(2, "invalid_status"), (3, "invalid_occurred_at")]


@pytest.mark.parametrize(("wording", "status"), [
    ("payment-done", "confirmed"), ("payment-completed", "confirmed"), ("cancelled", "cancelled"),
    ("payment-invalid", "cancelled"), ("payment-reimbursed", "refunded"),
])
def test_ulule_statuses_map_to_relais_statuses(wording, status):
    text = f"order.id,order.total,order.status,order.created_at,order.tracking.source\n1,35,{wording},2026-10-01,\n"
    assert [row.status for row in rows(text, preset="ulule_orders", currency="EUR")] == [status]


def test_a_generic_tag_is_lower_cased_and_an_empty_one_is_direct():
    found = rows(f"{HEADER}p-1,1,EUR,,2026-10-01,3PY2UFENGT\np-2,1,EUR,,2026-10-01,\n")
    assert [row.tag for row in found] == ["3py2ufengt", None]


def test_a_referrer_a_platform_export_names_that_cannot_be_a_tag_is_direct():
    text = "Pledge ID,Referrer ID,Funding Date,Amount\n1,Summer Promo 2026,2026-10-01,$5.00\n"
    assert [row.tag for row in rows(text, preset="indiegogo_contributions", currency="USD")] == [None]


def test_a_printed_amount_that_disagrees_with_the_campaign_currency_is_a_row_error():
    text = "Pledge ID,Referrer ID,Funding Date,Amount\n1,,2026-10-01,€5.00\n"
    assert errors(rows(text, preset="indiegogo_contributions", currency="USD")) == [(2, "invalid_amount")]


@pytest.mark.parametrize(("row", "code"), [
    ("Fan 1,1,100,EUR", "invalid_tag"),
    (",1,100,EUR", "invalid_tag"),
    ("3q2i76ye84,-1,100,EUR", "invalid_pledges"),
    ("3q2i76ye84,1.5,100,EUR", "invalid_pledges"),
    ("3q2i76ye84,1,-100,EUR", "invalid_amount"),
    ("3q2i76ye84,1,1.00,EUR", "invalid_amount"),
    ("3q2i76ye84,1,100,", "invalid_currency"),
])
def test_a_bad_tag_totals_row_is_a_row_error_with_its_code(row, code):
    assert errors(rows(f"tag,pledges,amount,currency\n{row}\n", "tag_totals")) == [(2, code)]


def test_a_tag_listed_twice_in_tag_totals_is_a_duplicate_whatever_its_case():
    found = rows("tag,pledges,amount,currency\n3q2i76ye84,1,100,EUR\n3Q2I76YE84,2,200,EUR\n", "tag_totals")
    assert found[1] == RowError(3, "duplicate_tag", "The tag 3q2i76ye84 is already on line 2.")


def test_times_read_in_iso_8601_and_kickstarters_form_all_in_utc():
    cases = ["2026-11-02", "2026-11-02 14:05", "2026-11-02T14:05:00Z", "2026-11-02T15:05:00+01:00",
             "2026-11-02 15:05:00 +0100", "2026-11-02 14:05 UTC", "2026/11/02, 14:05"]
    assert [import_files.parse_time(text) for text in cases] == [
        at("2026-11-02T00:00:00Z"), *[at("2026-11-02T14:05:00Z")] * 6]


def test_a_time_in_no_known_form_reads_as_none():
    assert [import_files.parse_time(text) for text in ["02/11/2026", "2026-13-01", "2026/02/30", "soon"]] == [None] * 4


def test_the_future_bound_follows_the_now_given():
    later = NOW + timedelta(days=30)
    assert rows(f"{HEADER}p-1,100,EUR,,2027-01-01T00:00:00Z,\n", now=later) == [
        pledge(2, "p-1", 100, "2027-01-01T00:00:00Z")]
