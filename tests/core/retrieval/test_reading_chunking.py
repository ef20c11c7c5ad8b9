"""Documents read into structured blocks and cut into chunks that keep sections whole."""

from __future__ import annotations

import json

import pytest

from lab.core.experiment.template import estimate_tokens
from lab.core.retrieval.chunking import chunk_blocks
from lab.core.retrieval.reading import DocumentError, read_document

POLICY = """# Returns policy

Customers may return most items within 30 days of delivery. The item must be unused.

## Damaged items

If an item arrives damaged, send a photo within 7 days. We replace it or refund it in full.

```
code stays whole
```

## Refund timing

Refunds reach the original payment method within 5 business days of receiving the return.
"""


def test_markdown_headings_become_the_section_path_of_each_block(tmp_path):
    path = tmp_path / "policy.md"
    path.write_text(POLICY)
    doc = read_document(path)
    assert doc.kind == "markdown" and doc.name == "policy.md"
    kinds = [(b.kind, b.headings) for b in doc.blocks]
    assert kinds[0] == ("heading", ("Returns policy",))
    assert ("code", ("Returns policy", "Damaged items")) in kinds
    assert kinds[-1] == ("paragraph", ("Returns policy", "Refund timing"))


def test_a_chunk_never_spans_two_sections_and_carries_its_heading(tmp_path):
    path = tmp_path / "policy.md"
    path.write_text(POLICY)
    chunks = chunk_blocks(read_document(path).blocks, size=60, overlap=10)
    assert [c.heading for c in chunks] == [
        "Returns policy", "Returns policy > Damaged items", "Returns policy > Refund timing"]
    assert [c.position for c in chunks] == [1, 2, 3]
    assert "code stays whole" in chunks[1].text and "5 business days" in chunks[2].text


def test_long_sections_are_cut_near_the_size_with_overlapping_sentences():
    from lab.core.retrieval.reading import Block

    sentences = [f"Sentence number {i} says something about parcel {i}." for i in range(60)]
    chunks = chunk_blocks([Block(" ".join(sentences), ("Long",))], size=60, overlap=15)
    assert len(chunks) > 4
    assert all(c.tokens <= 60 + 15 for c in chunks)
    for first, second in zip(chunks, chunks[1:]):
        last_sentence = first.text.rsplit(". ", 1)[-1]
        assert last_sentence in second.text[:200]  # the overlap: it starts with the last words
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)  # nothing is lost
    assert "\n" not in chunks[0].text  # one paragraph stays one paragraph


def test_html_pdf_csv_and_jsonl_are_read_as_documents(tmp_path):
    html = tmp_path / "faq.html"
    html.write_text("<html><head><style>x{}</style></head><body><h1>FAQ</h1><p>Shipping takes "
                    "<b>3</b> days.</p><script>ignored()</script><h2>Gifts</h2><li>Wrapped free"
                    "</li></body></html>")
    blocks = read_document(html).blocks
    assert [(b.kind, b.text, b.headings) for b in blocks] == [
        ("heading", "FAQ", ("FAQ",)), ("paragraph", "Shipping takes 3 days.", ("FAQ",)),
        ("heading", "Gifts", ("FAQ", "Gifts")), ("paragraph", "Wrapped free", ("FAQ", "Gifts"))]
    rows = tmp_path / "products.csv"
    rows.write_text("sku,name,price\nA1,Kettle,30\nB2,Toaster,\n")
    records = read_document(rows).blocks
    assert [b.text for b in records] == ["sku: A1\nname: Kettle\nprice: 30", "sku: B2\nname: Toaster"]
    lines = tmp_path / "notes.jsonl"
    lines.write_text(json.dumps({"topic": "returns", "note": "30 days"}) + "\n\n")
    assert read_document(lines).blocks[0].text == "topic: returns\nnote: 30 days"
    assert chunk_blocks(records, 40, 5)[1].text.startswith("sku: B2")  # one chunk per record


def test_a_real_pdf_is_read_page_by_page(tmp_path):
    pdf = tmp_path / "terms.pdf"
    pdf.write_bytes(_pdf_with_text(["Warranty lasts two years.", "Batteries are excluded."]))
    doc = read_document(pdf)
    assert [b.headings for b in doc.blocks] == [("page 1",), ("page 2",)]
    assert "Warranty lasts two years." in doc.blocks[0].text


def test_unreadable_files_say_which_and_why(tmp_path):
    bad = tmp_path / "notes.jsonl"
    bad.write_text('{"ok": 1}\n{broken\n')
    with pytest.raises(DocumentError, match=r"notes.jsonl, line 2: not valid JSON"):
        read_document(bad)
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DocumentError, match="not UTF-8"):
        read_document(binary)
    with pytest.raises(DocumentError, match=r"cannot read \.docx files"):
        read_document(tmp_path / "report.docx")


def test_chunk_sizes_follow_the_offline_token_estimate():
    from lab.core.retrieval.reading import Block

    text = " ".join(["word"] * 400)
    chunks = chunk_blocks([Block(text)], size=100, overlap=0)
    assert max(c.tokens for c in chunks) <= 100
    assert sum(estimate_tokens(c.text) for c in chunks) >= estimate_tokens(text) - len(chunks)


def _pdf_with_text(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of text per page (written by hand, so the test needs
    no PDF writer)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for i, text in enumerate(pages):
        page_no, content_no = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_no} 0 R")
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents "
                       f"{content_no} 0 R /Resources << /Font << /F1 {3 + 2 * len(pages)} 0 R >> >> >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
