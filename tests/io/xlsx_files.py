# ruff: noqa: E501
"""Hand-made XLSX workbooks for tests: the parts a workbook needs, with shared strings, so that a test can damage
exactly the part it is about."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

CONTENT_TYPES = b'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'''
RELS = b'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'''
WORKBOOK = b'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'''
WORKBOOK_RELS = b'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'''
def handmade(path: Path, rows: Sequence[Sequence[str | bytes | int]],
             prolog: bytes = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>') -> Path:
    """A workbook of `rows` (text as shared strings, whole numbers as numbers); `prolog` opens sharedStrings.xml."""
    strings: list[bytes] = []
    xml_rows: list[bytes] = []
    for r, row in enumerate(rows, start=1):
        cells: list[bytes] = []
        for c, v in enumerate(row):
            ref = f"{chr(65 + c)}{r}".encode()
            if isinstance(v, int):
                cells.append(b'<c r="%s"><v>%d</v></c>' % (ref, v))
            else:
                strings.append(v.encode() if isinstance(v, str) else v)
                cells.append(b'<c r="%s" t="s"><v>%d</v></c>' % (ref, len(strings) - 1))
        xml_rows.append(b'<row r="%d">%s</row>' % (r, b"".join(cells)))
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + b"".join(xml_rows) + b"</sheetData></worksheet>")
    shared = (prolog + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (len(strings), len(strings))
              + b"".join(b"<si><t>%s</t></si>" % s for s in strings) + b"</sst>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", shared)
    return path
