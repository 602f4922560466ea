import datetime as dt
from decimal import Decimal

import pytest

from documents.vietnamese import (
    format_date,
    format_long_date,
    format_number,
    format_percent,
    format_weekday_date,
    number_words,
    parse_number,
)


@pytest.mark.parametrize(
    "value, text",
    [
        (4257581, "4.257.581"),
        (Decimal("99.50"), "99,5"),
        (0, "0"),
        (Decimal("-1234.5"), "-1.234,5"),
        (Decimal("0.0400"), "0,04"),
        (1000, "1.000"),
    ],
)
def test_numbers_are_written_the_vietnamese_way(value, text):
    assert format_number(value) == text


def test_percent_and_fixed_decimals():
    assert format_percent(Decimal("99.5")) == "99,5%"
    assert format_number(2.1, decimals=2) == "2,10"
    assert format_number(None) == "—"


def test_dates_follow_decree_30():
    assert format_date(dt.date(2026, 12, 5)) == "05/12/2026"
    assert format_long_date(dt.date(2026, 12, 5)) == "ngày 05 tháng 12 năm 2026"
    assert format_long_date(dt.date(2027, 2, 15)) == "ngày 15 tháng 02 năm 2027"
    assert format_long_date(dt.date(2027, 3, 15)) == "ngày 15 tháng 3 năm 2027"
    assert format_weekday_date(dt.date(2026, 12, 4)) == "Thứ Sáu, ngày 04/12/2026"


NBSP, NNBSP = "\u00a0", "\u202f"
NUMBERS = [  # what a clerk types, and the number it is
    # Vietnamese: decimal comma, thousands dot
    ("99,5", "99.5"),
    ("4.257.581", "4257581"),
    ("1.234,5", "1234.5"),
    ("1.250,5", "1250.5"),  # read as 1250.5: plausibility, not the parser, questions a rate
    ("1.234.567,89", "1234567.89"),
    ("1.250", "1250"),  # a lone dot before three digits groups thousands
    ("1,250", "1.25"),  # a lone comma is always the decimal mark
    ("0,125", "0.125"),
    # code: decimal point, thousands comma
    ("99.5", "99.5"),
    ("4,257,581", "4257581"),
    ("1,234.5", "1234.5"),
    ("12345.678", "12345.678"),  # five digits before the dot: never a thousands group
    ("3.14159", "3.14159"),
    # leading zeros: a thousands group never starts with 0
    ("0.125", "0.125"),
    ("01.250", "1.25"),
    ("007", "7"),
    ("00,5", "0.5"),
    ("0,0", "0"),
    (".5", "0.5"),
    (",5", "0.5"),
    ("5.", "5"),
    # signs
    ("-3", "-3"),
    ("-3,5", "-3.5"),
    ("\u22123,5", "-3.5"),  # the minus sign a word processor puts in
    ("+2", "2"),
    ("-1.234,5", "-1234.5"),
    # percent signs
    ("95%", "95"),
    ("99,5 %", "99.5"),
    ("99,5" + NBSP + "%", "99.5"),
    # spaces, plain and non-breaking, around and between thousands
    (" 12 ", "12"),
    ("1 234 567", "1234567"),
    ("1" + NBSP + "234" + NBSP + "567", "1234567"),
    ("1" + NNBSP + "234,5", "1234.5"),
    (NBSP + "42" + NBSP, "42"),
]


@pytest.mark.parametrize("text, value", NUMBERS, ids=[repr(t) for t, _ in NUMBERS])
def test_numbers_are_read_as_people_type_them(text, value):
    assert parse_number(text) == Decimal(value)


GARBAGE = [
    "", " ", "%", "abc", "nan", "inf", "1e5", "0x10",
    "1,2,3", "9..5", "1.234.5", "1,234,5", "12,34,567", "1,234.567,8", "1.2.3,4",
    "0.125.000",  # a thousands group starting with 0
    "1.23.456", "12 5", "12 345 abc", "1 2345",
    "- 5", "5-", "--5", "+-5", "5%%", "%5",
    "1,5,", "1.234,5.6", "٣",
]  # fmt: skip


@pytest.mark.parametrize("text", GARBAGE, ids=[repr(t) for t in GARBAGE])
def test_garbage_is_refused_naming_the_text(text):
    with pytest.raises(ValueError, match="empty" if not text.strip(" %") else "not a number"):
        parse_number(text)


@pytest.mark.parametrize(
    "value, words",
    [
        ("1250.5", "một nghìn hai trăm năm mươi phẩy năm"),
        ("0", "không"),
        ("10", "mười"),
        ("11", "mười một"),
        ("15", "mười lăm"),
        ("21", "hai mươi mốt"),
        ("24", "hai mươi tư"),
        ("105", "một trăm lẻ năm"),
        ("1005", "một nghìn không trăm lẻ năm"),
        ("4257581", "bốn triệu hai trăm năm mươi bảy nghìn năm trăm tám mươi mốt"),
        ("2000000000", "hai tỷ"),
        ("99.5", "chín mươi chín phẩy năm"),
        ("1.25", "một phẩy hai mươi lăm"),
        ("0.05", "không phẩy không năm"),
        ("-3.5", "âm ba phẩy năm"),
        ("75.40", "bảy mươi lăm phẩy bốn"),
    ],
)
def test_numbers_read_aloud(value, words):
    assert number_words(Decimal(value)) == words


@pytest.mark.parametrize(
    "value",
    ["0", "0.5", "99.5", "1000", "1250.5", "4257581", "1234567.89", "0.0004", "-1234.5", "120"],
)
def test_what_the_system_writes_it_reads_back(value):
    """Values shown to an agency (last year's, pre-filled in the form) come back unchanged."""
    assert parse_number(format_number(Decimal(value))) == Decimal(value)
