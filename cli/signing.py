"""`r42 verify-report FILE.pdf`: who signed a report PDF, when, and whether it is still as signed.

Exit status: 0 when every signature is intact and the file unchanged since signing (and, with
``--require-trust``, every signer chains to a ``--trust`` root); 1 when a signature is broken,
the file changed after signing, or the file carries no signature; 2 when it is not a PDF.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def cmd_verify_report(args: argparse.Namespace) -> int:
    from documents.signature_check import NotAPdf, check_signatures, load_certificates

    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # its tracebacks; we print a verdict
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        roots = load_certificates([Path(p) for p in args.trust])
    except (OSError, ValueError) as exc:
        raise ValueError(f"--trust: cannot read a certificate: {exc}") from None
    try:
        checks = check_signatures(path.read_bytes(), trust_roots=roots)
    except NotAPdf as exc:
        raise ValueError(f"{path}: {exc}") from None
    print(f"{path}:")
    if not checks:
        print("  NOT SIGNED: the file carries no digital signature")
        return 1
    for check in checks:
        print("\n".join(f"  {line}" for line in check.lines()))
    bad = [c for c in checks if c.changed or not c.valid]
    untrusted = [c for c in checks if not c.trusted]
    if bad:
        print("Result: NOT VALID: the file is not the one that was signed")
        return 1
    if args.require_trust and untrusted:
        print("Result: NOT TRUSTED: a signer's certificate does not chain to a --trust root")
        return 1
    print("Result: signed and unchanged since signing")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``verify-report`` on the ``r42`` parser."""
    p = sub.add_parser(
        "verify-report", help="check a report PDF's signature: signer, time, integrity, changes"
    )
    p.add_argument("file", help="the report PDF, e.g. data/reports/.../bao-cao-2026-....pdf")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="CERT",
        help="a trusted root CA certificate (PEM or DER); may be repeated",
    )
    p.add_argument(
        "--require-trust", action="store_true", help="fail unless every signer is trusted"
    )
    p.set_defaults(handler=cmd_verify_report)
