"""Generators for synthetic test files (fictional people only)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import struct
import zipfile
from email.message import EmailMessage

import openpyxl  # type: ignore[import-untyped]

# ----------------------------------------------------------------- OLE2 writer
# olefile only reads, so the .msg / .doc / encrypted-Office fixtures are written
# by this minimal compound-file writer (version 3, 512-byte sectors).

_END, _FREE, _FATSECT, _NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
_SIG = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class _Node:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, _Node] = {}
        self.sid = 0
        self.start, self.size = _END, 0


def build_cfb(streams: dict[str, bytes]) -> bytes:
    """An OLE2 file holding ``streams``; storages are given as ``a/b/stream``."""
    root = _Node("Root Entry", 5)
    for path, data in streams.items():
        node = root
        *dirs, leaf = path.split("/")
        for d in dirs:
            node = node.children.setdefault(d, _Node(d, 1))
        node.children[leaf] = _Node(leaf, 2, data)
    order: list[_Node] = []
    queue = [root]
    while queue:
        node = queue.pop(0)
        node.sid = len(order)
        order.append(node)
        queue.extend(sorted(node.children.values(), key=lambda n: (len(n.name), n.name.upper())))
    mini = bytearray()
    minifat: list[int] = []
    big = bytearray()
    big_chains: list[tuple[_Node, int, int]] = []
    for node in order:
        if node.kind != 2:
            continue
        node.size = len(node.data)
        if not node.data:
            continue
        if len(node.data) < 4096:
            first = len(mini) // 64
            count = -(-len(node.data) // 64)
            minifat += [first + i + 1 for i in range(count - 1)] + [_END]
            mini += node.data.ljust(count * 64, b"\0")
            node.start = first
        else:
            first = len(big) // 512
            count = -(-len(node.data) // 512)
            big += node.data.ljust(count * 512, b"\0")
            big_chains.append((node, first, count))
    mini_secs = -(-len(mini) // 512)
    mini_bytes = bytes(mini).ljust(mini_secs * 512, b"\0")
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_secs = -(-len(minifat_bytes) // 512)
    minifat_bytes = minifat_bytes.ljust(minifat_secs * 512, b"\xff")
    dir_secs = -(-len(order) // 4)
    other = mini_secs + len(big) // 512 + minifat_secs + dir_secs
    fat_secs = 1
    while (other + fat_secs) > fat_secs * 128:
        fat_secs += 1
    fat: list[int] = []

    def chain(start: int, count: int) -> None:
        fat.extend([start + i + 1 for i in range(count - 1)] + [_END])

    if mini_secs:
        chain(0, mini_secs)
    big_base = mini_secs
    for node, first, count in big_chains:
        node.start = big_base + first
        chain(big_base + first, count)
    minifat_start = len(fat)
    if minifat_secs:
        chain(minifat_start, minifat_secs)
    dir_start = len(fat)
    chain(dir_start, dir_secs)
    fat_start = len(fat)
    fat += [_FATSECT] * fat_secs
    fat += [_FREE] * (fat_secs * 128 - len(fat))
    root.start = 0 if mini_secs else _END
    root.size = len(mini)
    entries = b"".join(_dir_entry(n) for n in order)
    entries = entries.ljust(dir_secs * 512, b"\0")
    empty = _empty_entry()
    entries = entries[: len(order) * 128] + empty * (dir_secs * 4 - len(order))
    difat = [fat_start + i for i in range(fat_secs)] + [_FREE] * (109 - fat_secs)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        _SIG,
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        fat_secs,
        dir_start,
        0,
        4096,
        minifat_start if minifat_secs else _END,
        minifat_secs,
        _END,
        0,
        *difat,
    )
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    return header + mini_bytes + bytes(big) + minifat_bytes + entries + fat_bytes


def _dir_entry(node: _Node) -> bytes:
    kids = sorted(node.children.values(), key=lambda n: (len(n.name), n.name.upper()))
    return _entry(node, kids)


def _entry(node: _Node, kids: list[_Node]) -> bytes:
    name = node.name.encode("utf-16-le") + b"\0\0"
    # Siblings form a right-leaning chain: a valid (if unbalanced) search tree.
    for a, b in itertools.pairwise(kids):
        a.right = b.sid  # type: ignore[attr-defined]
    right = getattr(node, "right", _NONE)
    return struct.pack(
        "<64sHBBIII16sI8s8sIQ",
        name,
        len(name),
        node.kind,
        1,
        _NONE,
        right,
        kids[0].sid if kids else _NONE,
        b"\0" * 16,
        0,
        b"\0" * 8,
        b"\0" * 8,
        node.start,
        node.size,
    )


def _empty_entry() -> bytes:
    return struct.pack(
        "<64sHBBIII16sI8s8sIQ",
        b"",
        0,
        0,
        0,
        _NONE,
        _NONE,
        _NONE,
        b"\0" * 16,
        0,
        b"\0" * 8,
        b"\0" * 8,
        0,
        0,
    )


def build_msg(attachment: tuple[str, bytes] | None = None) -> bytes:
    def u(s: str) -> bytes:
        return s.encode("utf-16-le")

    streams = {
        "__properties_version1.0": b"\0" * 32,
        "__substg1.0_0037001F": u("Referral for Ada Lovelace-Test"),
        "__substg1.0_0C1A001F": u("Grace Hopper-Test"),
        "__substg1.0_5D01001F": u("grace.test@example.org"),
        "__substg1.0_1000001F": u("Please see Ada's details, NI QQ 12 34 56 C."),
        "__recip_version1.0_#00000000/__substg1.0_3001001F": u("Alan Turing-Test"),
        "__recip_version1.0_#00000000/__substg1.0_39FE001F": u("alan.test@example.net"),
        "__recip_version1.0_#00000000/__properties_version1.0": b"\0" * 8
        + struct.pack("<IIII", 0x0C150003, 0, 1, 0),
    }
    if attachment:
        name, data = attachment
        streams["__attach_version1.0_#00000000/__substg1.0_3707001F"] = u(name)
        streams["__attach_version1.0_#00000000/__substg1.0_37010102"] = data
    return build_cfb(streams)


def build_doc(text: str) -> bytes:
    """A minimal Word 97 file: a FIB pointing at one cp1252 piece of text."""
    fib = bytearray(1024)
    struct.pack_into("<HHH", fib, 0, 0xA5EC, 0xC1, 0)
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # table stream is 1Table
    struct.pack_into("<H", fib, 32, 14)
    struct.pack_into("<H", fib, 62, 22)
    struct.pack_into("<H", fib, 152, 93)
    body = text.encode("cp1252")
    pcd = struct.pack("<HIH", 0, (1024 * 2) | 0x40000000, 0)
    plc = struct.pack("<II", 0, len(body)) + pcd
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", fib, 154 + 33 * 8, 0, len(clx))
    return build_cfb({"WordDocument": bytes(fib) + body, "1Table": clx})


# ----------------------------------------------------------------- Office files


def build_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Staff"
    ws["B3"] = "Name"
    ws["C3"] = "Staff no"
    ws["D3"] = "Born"
    ws["E3"] = "Start"
    ws["F3"] = "FTE"
    ws["G3"] = "Active"
    ws.append([])
    ws["B4"] = "Ada Lovelace-Test"
    ws["C4"] = 1042
    ws["D4"] = dt.date(1985, 12, 10)
    ws["E4"] = dt.time(9, 30)
    ws["F4"] = 0.5
    ws["G4"] = True
    hidden = wb.create_sheet("Secret")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "QQ123456C"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_docx() -> bytes:
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.core_properties.author = "Author Person-Test"
    d.add_paragraph("First paragraph about Ada Lovelace-Test.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Name"
    table.cell(0, 1).text = "NHS number"
    table.cell(1, 0).text = "Ada Lovelace-Test"
    table.cell(1, 1).text = "943 476 5919"
    para = d.add_paragraph("Last paragraph.")
    d.sections[0].header.paragraphs[0].text = "Header text CONFIDENTIAL"
    d.sections[0].footer.paragraphs[0].text = "Footer text page"
    d.add_comment(para.runs[0], text="Check with Grace Hopper-Test", author="Reviewer-Test")
    box = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent>'
        "<w:p><w:r><w:t>Boxed Alan Turing-Test</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
    )
    d.paragraphs[0]._p.append(box)
    buf = io.BytesIO()
    d.save(buf)
    footnotes = (
        '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Footnote about Mary Seacole-Test</w:t></w:r></w:p>'
        "</w:footnote></w:footnotes>"
    )
    return add_members(buf.getvalue(), {"word/footnotes.xml": footnotes.encode()})


def add_members(zip_bytes: bytes, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in extra.items():
            dst.writestr(name, data)
    return out.getvalue()


def build_pptx() -> bytes:
    import pptx
    from pptx.util import Inches

    prs = pptx.Presentation()
    s1 = prs.slides.add_slide(prs.slide_layouts[5])
    assert s1.shapes.title is not None
    s1.shapes.title.text = "Quarterly review"
    group = s1.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(2), Inches(3), Inches(1)).text = "Grouped Ada-Test"
    s1.notes_slide.notes_text_frame.text = "Speaker notes mention Grace-Test"
    s2 = prs.slides.add_slide(prs.slide_layouts[6])
    shape = s2.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(1))
    tbl = shape.table
    tbl.cell(0, 0).text = "Name"
    tbl.cell(0, 1).text = "Phone"
    tbl.cell(1, 0).text = "Alan-Test"
    tbl.cell(1, 1).text = "07700 900123"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def build_odf(kind: str, body_xml: str, styles_xml: str = "") -> bytes:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2"'
    )
    content = f'<?xml version="1.0"?><office:document-content {ns}><office:body>{body_xml}</office:body></office:document-content>'  # noqa: E501
    styles = f'<?xml version="1.0"?><office:document-styles {ns}><office:master-styles>{styles_xml}</office:master-styles></office:document-styles>'  # noqa: E501
    manifest = (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'  # noqa: E501
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.{kind}"/>'  # noqa: E501
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("styles.xml", styles, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# ----------------------------------------------------------------- PDF, mail, archives


def build_pdf(pages: list[str], *, encrypt: str | None = None) -> bytes:
    from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    for text in pages:
        c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def build_scanned_pdf() -> bytes:
    from PIL import Image
    from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
    from reportlab.pdfgen import canvas

    img = Image.new("L", (40, 20), 255)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 72, 600, 200, 100)
    c.showPage()
    c.save()
    return buf.getvalue()


def build_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def build_eml(
    *,
    plain: str | None = "Hello, Ada's NHS number is 943 476 5919.",
    html: str | None = None,
    attachments: dict[str, bytes] | None = None,
    attached_message: EmailMessage | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Grace Hopper-Test <grace.test@example.org>"
    msg["To"] = "Alan Turing-Test <alan.test@example.net>"
    msg["Cc"] = "ops.test@example.com"
    msg["Subject"] = "Referral list"
    msg["Date"] = "Mon, 02 Jun 2025 10:00:00 +0000"
    if plain is not None:
        msg.set_content(plain)
    if html is not None:
        if plain is not None:
            msg.add_alternative(html, subtype="html")
        else:
            msg.set_content(html, subtype="html")
    for name, data in (attachments or {}).items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    if attached_message is not None:
        msg.add_attachment(attached_message)
    return msg
