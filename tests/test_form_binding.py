"""A form is bound to its request: a commune's form whose hidden agency code was changed to
another commune (every row the same, so every other check passes) is refused, as is one whose
visible agency name is another's; a form made before forms were signed needs ops to name it."""

from __future__ import annotations

from tests.test_excel_form import (  # noqa: F401
    count_submissions,
    cycle_2026,
    fill,
    form_bytes,
    refused,
    save,
    upload,
)

COMMUNE, OTHER = "ubnd-xa-tra-on", "ubnd-xa-long-ho"


def with_hidden_agency(book, code: str):  # noqa: ANN001, ANN201
    for row in book["_meta"].iter_rows():
        if row[0].value == "agency":
            row[1].value = code
    return book


def test_a_commune_form_relabelled_as_another_commune_is_refused(cycle_2026):  # noqa: F811
    forged = save(with_hidden_agency(fill(form_bytes(COMMUNE)), OTHER))
    (error,) = refused(forged, OTHER, expected=False)  # ops: the file says whose it is
    assert "không khớp với chữ ký" in error and "Ủy ban nhân dân xã" in error
    (error,) = refused(forged, OTHER)  # the other commune's upload page
    assert "không khớp với chữ ký" in error or "đơn vị khác" in error
    assert count_submissions() == 0
    assert upload(save(fill(form_bytes(COMMUNE))), COMMUNE, expected=False)[0] == 1  # as sent


def test_a_visible_agency_name_that_is_not_the_agency_s_is_refused(cycle_2026):  # noqa: F811
    book = fill(form_bytes(COMMUNE))
    book["Chỉ tiêu"]["B2"] = "Ủy ban nhân dân xã Long Hồ"
    (error,) = refused(save(book), COMMUNE, expected=False)
    assert "Tên đơn vị trên biểu mẫu «Ủy ban nhân dân xã Long Hồ» không khớp" in error


def test_an_unsigned_form_is_imported_only_for_the_agency_ops_name(cycle_2026):  # noqa: F811
    book = fill(form_bytes(COMMUNE))
    del book["_ky"]  # as forms were before they were signed
    unsigned = save(book)
    (error,) = refused(unsigned, COMMUNE, expected=False)
    assert "không có chữ ký" in error and "--agency" in error
    assert upload(unsigned, COMMUNE, expected=False, agency=COMMUNE)[0] == 1
    assert upload(save(fill(form_bytes(COMMUNE), t__F5="Khác.")), COMMUNE)[0] >= 1  # web page
