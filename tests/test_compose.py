"""compose() writes its MIME bytes itself: every part must parse back to exactly what was meant."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import io
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.mail_settings import MailSettings
from documents.templating import render, render_email
from mail import mime, mime_parts
from mail.compose import Attachment, Recipient, compose
from mail.transport import Envelope, SmtpTransport
from mail.wire import check_wire_form
from models.orm import DeliveryStatus
from tests.servers import SmtpServer

REGISTRIES = Path(__file__).resolve().parents[1] / "config" / "programmes"

NOW = dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SETTINGS = MailSettings(message_id_domain="r42.vinhlong.example")
AGENCY = "Ủy ban nhân dân xã Số 123"
COMMON = {
    "year": 2026,
    "deadline": dt.date(2026, 12, 4),
    "deadline_weekday": "Thứ Sáu",
    "programme_name": "Chương trình hành động thực hiện Nghị quyết số 42-NQ/TW",
    "short_name": "Chương trình hành động",
    "decision": "Quyết định số 1234/QĐ-UBND",
    "target_year": 2030,
    "standing_agency": "Sở Nội vụ",
    "ministry": "Bộ Nội vụ",
    "province": "Vĩnh Long",
    "sender_name": SETTINGS.sender_name,
}
REQUEST = {
    **COMMON,
    "agency_name": AGENCY,
    "head_title": "Chủ tịch",
    "link": "http://127.0.0.1:8042/bao-cao/abc123",
    "link_expires": dt.date(2027, 3, 1),
    "attachment_name": f"Biểu mẫu báo cáo năm 2026 - {AGENCY}.xlsx",
    "indicators": [
        {
            "number": n,
            "name": f"Tỷ lệ hộ gia đình được tiếp cận dịch vụ xã hội cơ bản, nhóm {n}",
            "unit": "%",
            "target": "≥ 95%",
            "last_value": "87,5%",
        }
        for n in range(1, 35)
    ],
    "task_groups": [
        {"number": n, "name": f"Nhóm nhiệm vụ an sinh xã hội {n}"} for n in range(1, 8)
    ],
}
FILENAME = f"Biểu mẫu báo cáo năm 2026 - {AGENCY}.xlsx"

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
VIETNAMESE += VIETNAMESE.upper()
SPECIALS = " ,;:.()<>[]@\"\\'?=!-/&%#*"
TRICKY = ["=?utf-8?b?", "?=", "😀", "𠀀", "\t", "\xa0", "\u2028", "\x85", "From ", "Đ"]

any_char = st.characters(exclude_categories=("Cs",), exclude_characters="\r\n")
vietnamese_text = st.lists(
    st.sampled_from(VIETNAMESE) | st.sampled_from(SPECIALS) | st.sampled_from(TRICKY) | any_char,
    max_size=160,
).map("".join)
# Mostly whole Vietnamese words, as real names and subjects are.
vietnamese_words = st.lists(
    st.text(alphabet=VIETNAMESE + "0123456789", min_size=1, max_size=9)
    | st.sampled_from(["Ủy", "ban", "nhân", "dân", "xã", "Số", "(hạn", "04/12)", "[NQ42]", '"Y"']),
    max_size=30,
).map(" ".join)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def assert_wire_format(raw: bytes, header_width: int = 78) -> None:
    """7-bit, CRLF everywhere, lines of at most 998 octets (78 in headers, 76 in bodies).

    ``compose`` does not check its output at run time: this, over every shape and random text,
    is what lets the transport send it without rewriting (``mail.wire``).

    A header line may pass 78 only to hold one token that cannot be folded (the XLSX type).
    """
    assert raw.isascii()
    assert raw.endswith(b"\r\n")
    assert check_wire_form(raw) is raw  # and no line opens with ".": sent after DATA as it is
    lines = raw[:-2].split(b"\r\n")
    assert not any(b"\r" in line or b"\n" in line for line in lines)
    assert max(len(line) for line in lines) <= 998
    in_headers = True
    for line in lines:
        if not line:
            in_headers = False
        elif line.startswith(b"--=_"):
            in_headers = True
        elif in_headers:
            unsplittable = len(line.strip().split(b" ")) <= (1 if line[:1] == b" " else 2)
            assert len(line) <= header_width or unsplittable, line
        else:
            assert len(line) <= 76, line


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def xlsx_form() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Chỉ tiêu"
    for row in REQUEST["indicators"]:
        sheet.append([row["number"], row["name"], row["unit"], row["target"], None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def compose_request(**overrides):
    arguments = {
        "to": [Recipient(AGENCY, "vanthu@xa123.tinh05.example")],
        "cc": [Recipient(f"Chủ tịch {AGENCY}", "chutich@xa123.tinh05.example")],
        "attachments": [Attachment(FILENAME, xlsx_form(), XLSX)],
        "settings": SETTINGS,
        "now": NOW,
        **overrides,
    }
    return compose(render_email("request", **REQUEST), **arguments)


def mailboxes(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in message[name].addresses]


_TOKEN = re.compile(r'=\?utf-8\?b\?([A-Za-z0-9+/=]*)\?=|"((?:[^"\\]|\\.)*)"|<[^>]*>,?|[^\s"<]+')


def rfc2047_display_names(raw_header: str) -> list[str]:
    """Display names as RFC 2047 6.2 reads them: whitespace between encoded-words dropped."""
    names, words, previous_encoded = [], [], False
    for match in _TOKEN.finditer(raw_header.split(":", 1)[1].replace("\r\n", "")):
        token = match.group(0)
        if token.startswith("<") or (match.lastindex is None and "@" in token):  # <a@b> or a@b
            names.append("".join(words))
            words, previous_encoded = [], False
            continue
        encoded = match.group(1) is not None
        if words and not (encoded and previous_encoded):
            words.append(" ")
        if encoded:
            words.append(base64.b64decode(match.group(1)).decode())
        elif match.group(2) is not None:
            words.append(re.sub(r"\\(.)", r"\1", match.group(2)))
        else:
            words.append(token)
        previous_encoded = encoded
    return names


def test_the_request_email_parses_back_to_what_was_rendered():
    form = xlsx_form()
    composed = compose_request(attachments=[Attachment(FILENAME, form, XLSX)])
    assert_wire_format(composed.raw)
    message = parse(composed.raw)

    subject = " ".join(render("email/request.subject.j2", **REQUEST).split())
    assert composed.subject == message["Subject"] == subject
    assert "Đề nghị báo cáo" in subject and "(hạn 04/12/2026)" in subject
    assert mailboxes(message, "From") == [(SETTINGS.sender_name, SETTINGS.sender_address)]
    assert mailboxes(message, "To") == [(AGENCY, "vanthu@xa123.tinh05.example")]
    assert mailboxes(message, "Cc") == [(f"Chủ tịch {AGENCY}", "chutich@xa123.tinh05.example")]
    assert composed.to == ["vanthu@xa123.tinh05.example"]
    assert composed.cc == ["chutich@xa123.tinh05.example"]
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Message-ID"] == composed.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@r42\.vinhlong\.example>", composed.message_id)
    assert message["MIME-Version"] == "1.0"

    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        XLSX,
    ]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text == crlf(render("email/request.txt.j2", **REQUEST))
    assert html == crlf(render("email/request.html.j2", **REQUEST))
    (form_part,) = message.iter_attachments()
    assert form_part.get_content_type() == XLSX
    assert form_part.get_content_disposition() == "attachment"
    assert form_part.get_filename() == FILENAME
    assert form_part.get_content() == form
    assert openpyxl.load_workbook(io.BytesIO(form_part.get_content())).sheetnames == ["Chỉ tiêu"]
    assert all(not part.defects for part in message.walk())
    # Plain-ASCII fallback for old readers; Python notes it as a duplicate and ignores it.
    assert b'filename="Bieu mau bao cao nam 2026 - Uy ban nhan dan xa So 123.xlsx"' in composed.raw
    defects = form_part["Content-Disposition"].defects
    assert [str(d) for d in defects] == ["duplicate parameter name; duplicate ignored"]


def test_it_reads_back_as_the_stdlib_built_message_did():
    """Differential check against the EmailMessage way this module used before."""
    form = xlsx_form()
    composed = compose_request(attachments=[Attachment(FILENAME, form, XLSX)])
    old = EmailMessage(policy=email.policy.SMTP)
    old["From"] = Address(SETTINGS.sender_name, *SETTINGS.sender_address.split("@"))
    old["To"] = Address(AGENCY, "vanthu", "xa123.tinh05.example")
    old["Cc"] = Address(f"Chủ tịch {AGENCY}", "chutich", "xa123.tinh05.example")
    old["Subject"] = composed.subject
    old["Date"] = email.utils.format_datetime(NOW)
    old.set_content(render("email/request.txt.j2", **REQUEST))
    old.add_alternative(render("email/request.html.j2", **REQUEST), subtype="html")
    old.add_attachment(form, maintype="application", subtype=XLSX.split("/")[1], filename=FILENAME)
    before, after = parse(old.as_bytes()), parse(composed.raw)
    for name in ("From", "To", "Cc", "Subject", "Date"):
        assert str(before[name]) == str(after[name]), name
    assert [p.get_content_type() for p in before.walk()] == [
        p.get_content_type() for p in after.walk()
    ]
    for kind in ("plain", "html"):
        assert before.get_body((kind,)).get_content() == after.get_body((kind,)).get_content()
    (old_form,), (new_form,) = before.iter_attachments(), after.iter_attachments()
    assert (old_form.get_filename(), old_form.get_content()) == (
        new_form.get_filename(),
        new_form.get_content(),
    )


def test_without_attachments_the_message_is_multipart_alternative():
    composed = compose_request(attachments=None, cc=None)
    assert_wire_format(composed.raw)
    message = parse(composed.raw)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Cc"] is None and composed.cc == []
    assert list(message.iter_attachments()) == []


def test_display_names_with_specials_and_several_recipients():
    people = [
        Recipient('Nguyễn, Văn "A" (Sở Y tế)', "nva@soyte.vinhlong.example"),
        Recipient('Smith, John "Jr." (IT) <x>', "john.smith@it.example"),
        Recipient("", "no.name@x.example"),
        Recipient("  Sở   Tư\tpháp  ", "vanthu@sotp.vinhlong.example"),
        Recipient("O'Brien & Co =?not-encoded?=", "ob@x.example"),
    ]
    composed = compose_request(to=people, cc=people[:2])
    assert_wire_format(composed.raw)
    message = parse(composed.raw)
    expected = [(" ".join(p.name.split()), p.email) for p in people]
    assert mailboxes(message, "To") == expected
    assert mailboxes(message, "Cc") == expected[:2]
    assert composed.to == [p.email for p in people]


def test_tricky_bodies_come_back_exactly():
    report = "\n".join(
        [
            "From the province: a line that mbox would mangle",
            "From ",
            ".",
            "..",
            " . ",
            "x" * 2000,
            "Dòng rất dài " * 150,
            "Ký tự ngoài BMP: 😀 𠀀 𝕏",
            "tab\there, trailing spaces   ",
            "--=_not-a-boundary",
            "",
            "=?utf-8?b?w6Q=?=",
            "",
        ]
    )
    context = {
        **COMMON,
        "number": "215/BC-UBND",
        "signer": "Nguyễn Văn A",
        "report_date": dt.date(2026, 12, 5),
        "report_markdown": report,
        "report_html": "<pre>" + report.replace("<", "&lt;") + "</pre>",
        "issuer": "Ủy ban nhân dân tỉnh Vĩnh Long",
        "cycle_kind": "annual",  # the yearly report (a review's names its period instead)
    }
    composed = compose(
        render_email("report", **context),
        to=[Recipient("Bộ Nội vụ", "vanthu@moha.example")],
        settings=SETTINGS,
        now=NOW,
    )
    assert_wire_format(composed.raw)
    message = parse(composed.raw)
    text = message.get_body(("plain",)).get_content()
    assert text == crlf(render("email/report.txt.j2", **context))
    assert crlf(report) in text  # a <pre> block is plain text as it is
    html = message.get_body(("html",)).get_content()
    assert html == crlf(render("email/report.html.j2", **context))


@pytest.mark.parametrize(
    "recipient",
    [
        Recipient("Sở Y tế", "vanthu@soyte.example\r\nBcc: all@x.example"),
        Recipient("Sở Y tế", "vanthu@soyte.example\n"),
        Recipient("Sở Y tế\r\nBcc: all@x.example", "vanthu@soyte.example"),
        Recipient("Sở Y tế\n", "vanthu@soyte.example"),
        Recipient("Sở Y tế", "van thu@soyte..example"),
        Recipient("Sở Y tế", "vănthư@soyte.example"),
        Recipient("Sở Y tế", "vanthu@sởytế.example"),
        Recipient("Sở Y tế", "vanthu"),
        Recipient("Sở Y tế", "<vanthu@soyte.example>"),
    ],
)
def test_line_breaks_and_unusable_addresses_are_refused(recipient):
    with pytest.raises(ValueError):
        compose_request(to=[recipient])
    with pytest.raises(ValueError):
        compose_request(cc=[recipient])


def test_an_unusable_address_names_itself():
    with pytest.raises(ValueError, match="invalid address 'van thu@soyte..example'"):
        compose_request(to=[Recipient("Sở Y tế", "van thu@soyte..example")])


def test_a_bad_mime_type_or_message_id_domain_is_refused():
    with pytest.raises(ValueError, match="MIME type"):
        compose_request(attachments=[Attachment("a.xlsx", b"x", "application/x\r\nBcc: y")])
    with pytest.raises(ValueError, match="domain"):
        compose_request(settings=MailSettings(message_id_domain="bad domain\r\nX: y"))


def test_message_ids_are_unique():
    assert len({compose_request(attachments=None).message_id for _ in range(50)}) == 50


def test_long_filenames_are_continued_whole_characters_per_piece():
    name = "Báo cáo " * 30 + "😀.xlsx"
    part = mime_parts.attachment_part(name, b"\x00\xff" * 100, XLSX)
    assert_wire_format(part)
    message = parse(b"MIME-Version: 1.0\r\n" + part)
    assert message.get_filename() == name
    assert message.get_content() == b"\x00\xff" * 100
    fallback = mime_parts.ascii_filename(name)
    assert fallback.isascii() and fallback.endswith(".xlsx") and fallback.startswith("Bao cao")


# Random text. Bodies, subjects and file names must come back exactly (subjects and names with
# their whitespace collapsed); display names exactly as RFC 2047 reads them, and exactly through
# Python's parser too unless two encoded-words had to be adjacent (CPython gh-128110).
random = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@random
@given(text=vietnamese_text | vietnamese_words)
def test_random_subjects_round_trip(text):
    header = mime.unstructured_header("Subject", text)
    assert_wire_format(header)
    assert parse(header + b"\r\n")["Subject"] == " ".join(text.split())


@random
@given(names=st.lists(vietnamese_text | vietnamese_words, min_size=1, max_size=4))
def test_random_display_names_round_trip(names):
    boxes = [(name, f"a{n}@x{n}.example") for n, name in enumerate(names)]
    header = mime.address_header("To", boxes)
    assert_wire_format(header)
    expected = [" ".join(name.split()) for name in names]
    assert rfc2047_display_names(header.decode()) == expected
    parsed = mailboxes(parse(header + b"\r\n"), "To")
    assert [address for _, address in parsed] == [address for _, address in boxes]
    for (display, _), want in zip(parsed, expected, strict=True):
        if "?= =?" in header.decode().replace("\r\n", ""):
            assert display.replace(" ", "") == want.replace(" ", "")
        else:
            assert display == want


def test_every_registry_name_round_trips_through_python_too():
    """Real agency names and their heads' titles read back exactly (Python: but for spaces)."""
    documents = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(REGISTRIES.glob("*/registry/*.yaml"))
    ]
    names = {
        name
        for document in documents
        for agency in document["agencies"]
        for name in (agency["name"], f"{agency['head_title']} {agency['name']}")
    } | {document["ministry"]["name"] for document in documents}
    assert len(names) > 20
    for name in sorted(names):
        header = mime.address_header("To", [(name, "a@x.example")])
        assert_wire_format(header)
        assert rfc2047_display_names(header.decode()) == [name]
        ((display, address),) = mailboxes(parse(header + b"\r\n"), "To")
        assert address == "a@x.example"
        if "?= =?" in header.decode().replace("\r\n", ""):  # a run over 45 bytes of UTF-8
            assert " ".join(display.split()) == name  # Python 3.11 doubles one space
        else:
            assert display == name


@random
@given(text=st.text(alphabet=st.characters(exclude_categories=("Cs",))) | vietnamese_text)
def test_random_bodies_round_trip(text):
    part = mime_parts.text_part("plain", text)
    assert_wire_format(part, header_width=78)
    assert parse(b"MIME-Version: 1.0\r\n" + part).get_content() == crlf(text)


@random
@given(filename=vietnamese_text.filter(lambda s: s.strip()), content=st.binary(max_size=300))
def test_random_attachment_names_round_trip(filename, content):
    part = mime_parts.attachment_part(filename, content, XLSX)
    assert_wire_format(part)
    message = parse(b"MIME-Version: 1.0\r\n" + part)
    # Exact through the header parser; Message.get_filename() would also strip and unquote it.
    assert message["Content-Disposition"].params["filename"] == filename
    assert message.get_content() == content
    assert message.get_content_type() == XLSX


def test_messages_sent_through_a_real_smtp_server_arrive_intact():
    form = xlsx_form()
    people = [
        Recipient('Nguyễn, Văn "A" (Sở Y tế)', "nva@soyte.vinhlong.example"),
        Recipient(AGENCY, "vanthu@xa123.tinh05.example"),
    ]
    with SmtpServer() as server:
        settings_ = MailSettings(
            transport="smtp", smtp_host="127.0.0.1", smtp_port=server.port, smtp_timeout=5
        )
        composed = [
            compose_request(to=[person], attachments=[Attachment(FILENAME, form, XLSX)])
            for person in people
        ]
        envelopes = [
            Envelope(c.message_id, f"m{n}", settings_.sender_address, c.to + c.cc, c.raw)
            for n, c in enumerate(composed)
        ]
        results = asyncio.run(SmtpTransport(settings_).deliver(envelopes))
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 2
    arrived = {r.message["Message-ID"]: r for r in server.received}
    for person, sent in zip(people, composed, strict=True):
        received = arrived[sent.message_id]
        assert received.raw.rstrip(b"\r\n") == sent.raw.rstrip(b"\r\n")
        message = received.message
        assert message["Subject"] == sent.subject
        assert mailboxes(message, "To") == [(person.name, person.email)]
        assert message.get_body(("plain",)).get_content() == crlf(
            render("email/request.txt.j2", **REQUEST)
        )
        (part,) = message.iter_attachments()
        assert (part.get_filename(), part.get_content()) == (FILENAME, form)
