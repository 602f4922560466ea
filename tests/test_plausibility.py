"""Plausibility: a programme's `plausible: [min, max]` and year-on-year factor, and the flags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from config.registry import RegistryError
from config.registry_files import load_programme
from documents.vietnamese import parse_number
from reporting.plausibility_rules import Last, Plausibility, check_value, confirmation_text
from tests.factories import PROGRAMME
from tests.test_registry import P, copy_programme

D = Decimal


def rules(code: str) -> Plausibility:
    programme = load_programme(PROGRAMME).programme
    target = programme.target(code)
    return Plausibility(target.unit, target.kind, target.plausible, programme.year_on_year_factor)


def test_the_shipped_programme_declares_ranges_for_its_rates_and_counts():
    programme = load_programme(PROGRAMME).programme
    assert programme.target("fertility").plausible == (D("0.5"), D(8))
    assert programme.target("life_expectancy").plausible == (D(40), D(100))
    assert programme.year_on_year_factor == 3
    unbounded = [t.code for t in programme.targets if t.kind in ("rate", "count") and not t.plausible]
    assert unbounded == []


def test_a_fertility_rate_typed_the_wrong_way_is_flagged_and_read_aloud():
    typed = "1.250,5"
    value = parse_number(typed)
    (range_flag, jump) = check_value(value, Last(D("2.05"), 2025), rules("fertility"))
    assert range_flag.reason == "range"
    assert range_flag.message == "1.250,5 con/phụ nữ nằm ngoài khoảng hợp lý 0,5 - 8 con/phụ nữ."
    assert jump.message == (
        "1.250,5 con/phụ nữ gấp 610 lần giá trị năm 2025 của đơn vị (2,05 con/phụ nữ), quá 3 lần."
    )
    assert confirmation_text(typed, value) == "1.250,5 = một nghìn hai trăm năm mươi phẩy năm"


@pytest.mark.parametrize(
    "code, value, last, reasons",
    [
        ("fertility", "2.1", "2.05", []),
        ("fertility", "0.4", None, ["range"]),
        ("life_expectancy", "75.4", "75.1", []),
        ("life_expectancy", "754", "75.1", ["range", "jump"]),
        ("hospital_beds", "30", "9", ["jump"]),  # more than 3x: confirm it
        ("hospital_beds", "27", "9", []),  # exactly 3x is still plausible
        ("hospital_beds", "2.9", "9", ["jump"]),  # less than a third
        ("unemployment", "2.5", "0", []),  # no ratio from zero
        ("unemployment", "2.5", None, []),
        ("unemployment", "7.6", "2.5", ["jump"]),
        ("temporary_houses", "0", "120", ["jump"]),  # all removed in a year: confirm it
        ("minimum_living", "1", "0", []),  # yes/no
    ],
)
def test_flags(code, value, last, reasons):
    flags = check_value(D(value), None if last is None else Last(D(last), 2025), rules(code))
    assert [f.reason for f in flags] == reasons


def test_a_drop_names_the_inverse_of_the_factor():
    (flag,) = check_value(D("2.9"), Last(D(9), 2025), rules("hospital_beds"))
    assert flag.message == (
        "2,9 giường/10.000 dân chỉ bằng 32,2% giá trị năm 2025 của đơn vị "
        "(9 giường/10.000 dân), dưới 1/3."
    )


def test_a_percent_target_is_bounded_by_0_100_without_declaring_it():
    (flag,) = check_value(D("120"), None, rules("enrolment_primary"))
    assert flag.message == "120% nằm ngoài khoảng hợp lý 0 - 100%."


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda d: d["targets"][15].update(plausible=[8, 0.5]), "min < max"),
        (lambda d: d["targets"][15].update(plausible=[3, 8]), "target 2.1 lies outside"),
        (lambda d: d["targets"][9].update(plausible=[0, 1]), "yes/no target has no range"),
        (lambda d: d["targets"][15].update(plausible=[1]), "targets[15] (fertility).plausible"),
        (lambda d: d.update(year_on_year_factor=1), "year_on_year_factor"),
    ],
    ids=["order", "target-outside", "yes-no", "one-bound", "factor"],
)
def test_a_bad_range_is_refused_naming_the_target(tmp_path, edit, fragment):
    root = copy_programme(tmp_path, P, edit)
    with pytest.raises(RegistryError, match="programme.yaml") as info:
        load_programme(PROGRAMME, root=root)
    assert fragment in str(info.value)
