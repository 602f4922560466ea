"""Settings of the report PDF's signature (``R42_SIGNING__*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator


class SigningSettings(BaseModel):
    """How the approved report becomes a signed PDF (PAdES): the key and certificate from a
    PKCS#12 file or a PKCS#11 token (USB token, HSM), a time-stamp authority, the seal."""

    pkcs12_file: Path | None = Field(
        default=None,
        description="PKCS#12 file (.p12/.pfx) holding the signing key and certificate.",
    )
    pkcs12_password: SecretStr | None = Field(
        default=None, description="Password of the PKCS#12 file (none: the file has none)."
    )
    pkcs11_module: Path | None = Field(
        default=None,
        description="PKCS#11 library of the signer's token, e.g. /usr/lib/softhsm/libsofthsm2.so.",
    )
    pkcs11_slot: int | None = Field(
        default=None, ge=0, description="Slot of the token (none: the first slot holding a token)."
    )
    pkcs11_token_label: str | None = Field(
        default=None, description="Label of the token to use when several are plugged in."
    )
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the token.")
    pkcs11_key_label: str | None = Field(
        default=None,
        description="Label of the key and certificate on the token (none: its only certificate).",
    )
    tsa_url: str | None = Field(
        default=None, description="RFC 3161 time-stamp authority URL; none: no time-stamp."
    )
    seal_image: Path | None = Field(
        default=None,
        description="PNG/JPEG of the issuing body's seal, drawn under the visible signature.",
    )
    stamp_font: Path = Field(
        default=Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
        description="TrueType font of the visible signature (Vietnamese glyphs, embedded).",
    )
    soffice: str = Field(
        default="soffice", description="LibreOffice program that converts the DOCX to PDF."
    )
    pdfa: bool = Field(default=True, description="Write the PDF as PDF/A-2b (archival).")
    convert_timeout_seconds: float = Field(
        default=180, gt=0, le=3600, description="Longest the DOCX to PDF conversion may take."
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> SigningSettings:
        if self.pkcs12_file and self.pkcs11_module:
            raise ValueError("set pkcs12_file or pkcs11_module, not both")
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError("tsa_url must start with http:// or https://")
        return self

    @property
    def enabled(self) -> bool:
        """True when a key source is configured."""
        return bool(self.pkcs12_file or self.pkcs11_module)
