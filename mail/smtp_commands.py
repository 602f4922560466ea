"""MAIL, RCPT and DATA without per-message work the stored messages never need.

aiosmtplib's ``mail``/``rcpt`` parse every address with ``email.utils.parseaddr`` and its
``data`` runs two regular expressions over the whole message (line endings, then
dot-stuffing): with ~48 KB messages on a fast server that was most of the sending CPU
(benchmarks/README.md). Addresses are validated before a message is queued and ``compose``
writes every message in its wire form (CRLF line ends, no line opening with "."), so these
helpers send through aiosmtplib's own ``execute_command`` and protocol, after a check made in
C; anything else goes through ``mail``/``rcpt``/``data`` unchanged.
"""

from __future__ import annotations

import aiosmtplib
from aiosmtplib.status import SMTPStatus

from mail.mime import check_address
from mail.wire import ready_for_data

_RCPT_OK = (SMTPStatus.completed, SMTPStatus.will_forward)


def _plain(client: aiosmtplib.SMTP, address: str) -> bytes | None:
    """``<address>`` as bytes if it needs no quoting and the session has greeted, else None."""
    if client.is_ehlo_or_helo_needed:
        return None  # let aiosmtplib send EHLO (or HELO) first
    try:
        return b"<" + check_address(address).encode("ascii") + b">"
    except ValueError:
        return None


async def mail_from(client: aiosmtplib.SMTP, sender: str) -> aiosmtplib.SMTPResponse:
    """MAIL FROM; SMTPSenderRefused on any reply but 250, as ``client.mail``."""
    address = _plain(client, sender)
    if address is None:
        return await client.mail(sender)
    response = await client.execute_command(b"MAIL", b"FROM:" + address)
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)
    return response


async def rcpt_to(client: aiosmtplib.SMTP, recipient: str) -> aiosmtplib.SMTPResponse:
    """RCPT TO; SMTPRecipientRefused on any reply but 250/251, as ``client.rcpt``."""
    address = _plain(client, recipient)
    if address is None:
        return await client.rcpt(recipient)
    response = await client.execute_command(b"RCPT", b"TO:" + address)
    if response.code not in _RCPT_OK:
        raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)
    return response


async def send_data(client: aiosmtplib.SMTP, raw: bytes) -> aiosmtplib.SMTPResponse:
    """DATA, the message as it is, the final "."; SMTPDataError as ``client.data``."""
    protocol = client.protocol
    if protocol is None or not ready_for_data(raw):
        return await client.data(raw)
    start = await client.execute_command(b"DATA")
    if start.code != SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    try:
        protocol.write(raw + b".\r\n")  # one send: a copy costs less than a second segment
        response = await protocol.read_response(timeout=client.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()  # as client.data does: the connection cannot be trusted any more
        raise
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return response
