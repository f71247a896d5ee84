"""OLE2 compound files: legacy Office (xls, doc), Outlook msg, encrypted OOXML."""

from __future__ import annotations

import re
import struct

import olefile

from shareguard.extract._base import Context, uninspectable
from shareguard.extract.msg import extract_msg
from shareguard.extract.sheets import extract_sheets
from shareguard.extract.text import text_document
from shareguard.model import Document

OLE = "application/x-ole-storage"
XLS = "application/vnd.ms-excel"
DOC = "application/msword"
PPT = "application/vnd.ms-powerpoint"
_FIELD_CODE = re.compile(r"\x13[^\x13\x14\x15]*\x14|\x13[^\x13\x14\x15]*\x15")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def extract_ole(data: bytes, path: str, ctx: Context, depth: int) -> Document:
    ole = olefile.OleFileIO(data)
    try:
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            return uninspectable(path, OLE, "password-protected Office document", len(data))
        if ole.exists("Workbook") or ole.exists("Book"):
            return extract_sheets(data, path, XLS, ctx)
        if ole.exists("__properties_version1.0") or any(
            e[0].startswith("__substg1.0_") for e in ole.listdir()
        ):
            return extract_msg(ole, data, path, ctx, depth)
        if ole.exists("WordDocument"):
            return _word(ole, data, path, ctx)
        if ole.exists("PowerPoint Document"):
            return uninspectable(
                path,
                PPT,
                "legacy PowerPoint .ppt: text cannot be extracted; save as .pptx",
                len(data),
            )
        return uninspectable(path, OLE, "unrecognised OLE2 compound file", len(data))
    finally:
        ole.close()


def _word(ole: olefile.OleFileIO, data: bytes, path: str, ctx: Context) -> Document:
    wd: bytes = ole.openstream("WordDocument").read()
    if len(wd) < 160 or struct.unpack_from("<H", wd, 0)[0] != 0xA5EC:
        return uninspectable(path, DOC, "corrupt or truncated Word .doc", len(data))
    flags = struct.unpack_from("<H", wd, 0x0A)[0]
    if flags & 0x0100 or flags & 0x8000:
        return uninspectable(path, DOC, "password-protected Word .doc", len(data))
    table_name = "1Table" if flags & 0x0200 else "0Table"
    if not ole.exists(table_name):
        return uninspectable(path, DOC, "corrupt or truncated Word .doc", len(data))
    table: bytes = ole.openstream(table_name).read()
    ctx.charge(len(wd) + len(table))
    text = _piece_text(wd, table)
    if text is None:
        return uninspectable(
            path, DOC, "legacy Word .doc: text could not be extracted; save as .docx", len(data)
        )
    text = _FIELD_CODE.sub("", text).replace("\x15", "")
    text = (
        text.replace("\r", "\n").replace("\x07", "\t").replace("\x0b", "\n").replace("\x0c", "\n")
    )
    return text_document(path, _CONTROL.sub("", text), DOC, len(data))


def _piece_text(wd: bytes, table: bytes) -> str | None:
    """Text through the piece table (the Clx) that the FIB points to."""
    pos = 32
    csw = struct.unpack_from("<H", wd, pos)[0]
    pos += 2 + csw * 2
    cslw = struct.unpack_from("<H", wd, pos)[0]
    pos += 2 + cslw * 4 + 2
    if pos + 34 * 8 > len(wd):
        return None
    fc_clx, lcb_clx = struct.unpack_from("<II", wd, pos + 33 * 8)
    clx = table[fc_clx : fc_clx + lcb_clx]
    i = 0
    while i < len(clx) and clx[i] == 0x01:
        i += 3 + struct.unpack_from("<H", clx, i + 1)[0]
    if i + 5 > len(clx) or clx[i] != 0x02:
        return None
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5 : i + 5 + lcb]
    n = (len(plc) - 4) // 12
    if n <= 0:
        return None
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for k in range(n):
        fc = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        count = max(cps[k + 1] - cps[k], 0)
        if fc & 0x40000000:
            start = (fc & 0x3FFFFFFF) // 2
            out.append(wd[start : start + count].decode("cp1252", "replace"))
        else:
            out.append(wd[fc : fc + 2 * count].decode("utf-16-le", "replace"))
    return "".join(out)
