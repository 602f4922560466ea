"""Which form input an intake error is shown beside, on the yearly and the evaluation form
(one mapping for both: ``reporting.form_fields.input_name``)."""

import pytest

from reporting.form_fields import errors_by_input, input_name
from reporting.submission_input import FieldError


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("values.ty-le-ngheo", "value__ty-le-ngheo"),  # the yearly form: this year's value
        ("values.ty-le-ngheo.2024", "value__ty-le-ngheo__2024"),  # a review: one year's value
        ("notes.ty-le-ngheo", "note__ty-le-ngheo"),
        ("tasks.nhom-1.status", "status__nhom-1"),
        ("tasks.nhom-1.difficulties", "difficulties__nhom-1"),
        ("adjustment_proposals", "adjustment_proposals"),
    ],
)
def test_an_error_is_shown_beside_its_input(field, name):
    assert input_name(field) == name
    assert errors_by_input([FieldError(field, "Sai")]) == {name: "Sai"}
