from decimal import Decimal as D

import pytest

from models.indicators import meets_target


@pytest.mark.parametrize(
    "rule, target, value, met",
    [
        ("at_least", D(40), D(40), True),
        ("at_least", D(40), D("39.99"), False),
        ("more_than", D(95), D(95), False),
        ("more_than", D(95), D("95.01"), True),
        ("less_than", D(3), D(3), False),
        ("less_than", D(3), D("2.99"), True),
        ("at_most", D(0), D(0), True),
        ("at_most", D(0), D(1), False),
        ("toward", D("2.1"), D("2.05"), True),
        ("toward", D("2.1"), D("1.6"), False),
    ],
)
def test_strict_bounds_are_strict(rule, target, value, met):
    assert meets_target(rule, target, value, tolerance=D("0.1")) is met


def test_yes_no_and_missing_values():
    assert meets_target("achieved", None, None, achieved=True) is True
    assert meets_target("achieved", None, None, achieved=False) is False
    assert meets_target("at_least", D(40), None) is None
    assert meets_target("at_least", None, D(40)) is None  # target assigned later
