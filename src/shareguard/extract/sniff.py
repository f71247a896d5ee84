"""Decide a file's format from its content, never from its name."""

from __future__ import annotations

import io
import re
import zipfile

import puremagic

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GZIP_MAGIC = b"\x1f\x8b"

OOXML_TYPES = {
    "word": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"
ODF_TEXT = "application/vnd.oasis.opendocument.text"
ODF_PRESENTATION = "application/vnd.oasis.opendocument.presentation"
ZIP = "application/zip"
OLE = "application/x-ole-storage"
PDF = "application/pdf"
GZIP = "application/gzip"
TAR = "application/x-tar"
EML = "message/rfc822"
OTHER_ARCHIVES = {
    b"7z\xbc\xaf\x27\x1c": "application/x-7z-compressed",
    b"Rar!\x1a\x07": "application/vnd.rar",
    b"BZh": "application/x-bzip2",
    b"\xfd7zXZ\x00": "application/x-xz",
    b"\x28\xb5\x2f\xfd": "application/zstd",
}

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?", re.ASCII)
_MAIL_HEADERS = frozenset(
    b"from to cc subject date message-id mime-version received return-path "
    b"delivered-to reply-to sender x-mailer content-type".split()
)


def sniff_container(data: bytes) -> str | None:
    """Media type of a binary container, or None if it is none of ours."""
    head = data[:8]
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(data)
    if head == OLE_MAGIC:
        return OLE
    if data[:1024].lstrip()[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(GZIP_MAGIC):
        return GZIP
    if len(data) >= 262 and data[257:262] == b"ustar":
        return TAR
    for magic, media in OTHER_ARCHIVES.items():
        if head.startswith(magic):
            return media
    return None


def _zip_kind(data: bytes) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return ZIP  # the archive reader reports the damage
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return OOXML_TYPES["word"]
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return OOXML_TYPES["xlsm"] if "xl/vbaProject.bin" in names else OOXML_TYPES["xlsx"]
        if "ppt/presentation.xml" in names:
            return OOXML_TYPES["pptx"]
        return ZIP
    if "mimetype" in names:
        try:
            info = zf.getinfo("mimetype")
            if info.file_size < 200:
                mime = zf.read(info).decode("ascii", "replace").strip()
                if mime in (ODF_SPREADSHEET, ODF_TEXT, ODF_PRESENTATION):
                    return mime
        except Exception:  # damaged member: treat as a plain zip
            return ZIP
    return ZIP


def looks_like_email(text: str) -> bool:
    """RFC 822: a block of ``Name: value`` lines (continuations allowed) with at
    least two well-known mail headers, ended by a blank line."""
    known = 0
    lines = 0
    for line in text[:16384].splitlines():
        if not line.strip():
            return known >= 2 and lines >= 2
        if line[0] in " \t" and lines:
            continue
        raw = line.encode("ascii", "replace")
        if not _HEADER_LINE.match(raw):
            return False
        lines += 1
        if raw.split(b":", 1)[0].lower() in _MAIL_HEADERS:
            known += 1
    return False


def binary_media_type(data: bytes) -> str:
    try:
        mime = str(puremagic.from_string(data[:65536], mime=True))
    except Exception:  # puremagic raises for anything unknown
        return "application/octet-stream"
    return mime or "application/octet-stream"
