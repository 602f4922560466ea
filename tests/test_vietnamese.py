import datetime as dt
from decimal import Decimal

import pytest

from documents.vietnamese import (
    format_date,
    format_long_date,
    format_number,
    format_percent,
    format_weekday_date,
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


@pytest.mark.parametrize(
    "text, value",
    [
        ("99,5", "99.5"),
        ("99.5", "99.5"),
        ("4.257.581", "4257581"),
        ("1.234,5", "1234.5"),
        ("4,257,581", "4257581"),
        ("1,234.5", "1234.5"),
        (" 12 ", "12"),
        ("95%", "95"),
        ("0,0", "0.0"),
        ("-3", "-3"),
    ],
)
def test_numbers_are_read_as_people_type_them(text, value):
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "9..5", "1e5", "nan", "12 345 abc"])
def test_garbage_is_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)
