"""Numbers and dates as Vietnamese write them, and numbers as agencies type them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def format_number(value: Decimal | float | int | None, decimals: int | None = None) -> str:
    """4257581 -> '4.257.581'; 99.5 -> '99,5'; trailing zeros dropped unless ``decimals``."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals))
        text = f"{number:f}"
    else:
        text = f"{number.normalize():f}" if number != 0 else "0"
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped}" + (f",{fraction}" if fraction else "")


def format_percent(value: Decimal | float | int | None) -> str:
    """99.5 -> '99,5%'."""
    return "—" if value is None else f"{format_number(value)}%"


def format_date(day: dt.date) -> str:
    """05/12/2026."""
    return day.strftime("%d/%m/%Y")


def format_long_date(day: dt.date) -> str:
    """'ngày 05 tháng 12 năm 2026' (Decree 30: leading zero for days < 10 and months 1-2)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def format_weekday_date(day: dt.date) -> str:
    """'Thứ Sáu, ngày 04/12/2026'."""
    return f"{WEEKDAYS[day.weekday()]}, ngày {format_date(day)}"


def valid_until(last_day: dt.date | None) -> str:
    """How long a personal link works, as an email says it: 'đến hết ngày 02/03/2027', or,
    for a programme whose links live until the cycle is locked (None), that."""
    if last_day is None:
        return "đến khi kỳ báo cáo được khóa sổ để tổng hợp"
    return f"đến hết ngày {format_date(last_day)}"


_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # the minus sign, an en dash


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit alone takes '٣' and '²'


def _grouped(integer: str, separator: str) -> bool:
    """Whether ``integer`` is digits grouped by thousands with ``separator`` (at least once);
    the first group never opens with 0 ('0.125' and '01.250' are decimals)."""
    groups = integer.split(separator)
    return (
        len(groups) > 1
        and 1 <= len(groups[0]) <= 3
        and not groups[0].startswith("0")
        and all(len(g) == 3 and _ascii_digits(g) for g in groups[1:])
        and _ascii_digits(groups[0])
    )


def parse_number(text: str) -> Decimal:
    """A number as agencies type it; ValueError naming the text otherwise.

    Vietnamese writing ('4.257.581', '1.234,5', '99,5', '1 234 567', '95 %') and code's
    ('4,257,581', '1,234.5', '99.5'), with a sign ('-', '+', '−') and non-breaking spaces.
    When both separators appear, the last one is the decimal mark and the other must group
    thousands. A lone dot before exactly three digits groups thousands ('1.250' is 1250, the
    Vietnamese reading) unless the part before it opens with 0 ('0.125' is 0,125); a lone comma
    is always the decimal mark ('1,250' is 1,25); several commas group thousands.
    """
    cleaned = " ".join(text.translate(_SPACES).translate(_MINUS).split())
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1].rstrip()
    if not cleaned:
        raise ValueError("empty")
    sign = ""
    if cleaned[0] in "+-":
        sign, cleaned = cleaned[0].replace("+", ""), cleaned[1:]
    number = _normalise(cleaned)
    if number is None:
        raise ValueError(f"not a number: {text!r}")
    try:
        return Decimal(sign + number)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None


def _normalise(body: str) -> str | None:
    """``body`` (no sign, no percent) as '1234.5', or None when it is not a number."""
    decimal_mark = ""
    if "." in body and "," in body:
        decimal_mark = "." if body.rindex(".") > body.rindex(",") else ","
    elif body.count(",") == 1 and " " not in body.partition(",")[2]:
        decimal_mark = ","
    elif body.count(".") == 1:
        whole, _, fraction = body.partition(".")
        lone_thousands = len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0"
        decimal_mark = "" if lone_thousands and " " not in body else "."
    integer, _, fraction = body.rpartition(decimal_mark) if decimal_mark else (body, "", "")
    if decimal_mark and not (fraction == "" or _ascii_digits(fraction)):
        return None
    for separator in (" ", ".", ","):
        if separator in integer:
            if not _grouped(integer, separator):
                return None
            integer = integer.replace(separator, "")
            break
    if not (integer == "" or _ascii_digits(integer)) or not (integer or fraction):
        return None
    return f"{integer or '0'}.{fraction or '0'}" if decimal_mark else integer


_UNITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def _three_digits(n: int, full: bool) -> list[str]:
    """0-999 read aloud; ``full``: the hundreds are said even when 0 ('không trăm lẻ năm')."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [_UNITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("lẻ")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_UNITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        elif units == 4 and tens >= 2:
            words.append("tư")
        else:
            words.append(_UNITS[units])
    return words


def _integer_words(n: int) -> list[str]:
    if n == 0:
        return ["không"]
    if n >= 10**9:
        high, low = divmod(n, 10**9)
        return _integer_words(high) + ["tỷ"] + (_below_billion(low, True) if low else [])
    return _below_billion(n, False)


def _below_billion(n: int, full: bool) -> list[str]:
    words: list[str] = []
    for scale, name in ((10**6, "triệu"), (10**3, "nghìn"), (1, "")):
        group = n // scale % 1000
        if group:
            words += _three_digits(group, full or bool(words)) + ([name] if name else [])
    return words


def number_words(value: Decimal | int) -> str:
    """The value read aloud in Vietnamese, as the form shows how it read what was typed:
    1250.5 -> 'một nghìn hai trăm năm mươi phẩy năm'."""
    number = Decimal(value)
    text = f"{abs(number):f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    words = (["âm"] if number < 0 else []) + _integer_words(int(whole))
    if fraction:
        words.append("phẩy")
        if fraction.startswith("0") or len(fraction) > 3:
            words += [_UNITS[int(d)] for d in fraction]
        else:
            words += _three_digits(int(fraction), False)
    return " ".join(words)
