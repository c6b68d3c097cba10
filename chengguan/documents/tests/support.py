"""Reading generated documents back as a person would: DOCX through python-docx, PDF pages
rendered to PNG by pdftoppm (Debian poppler-utils) and read by offline OCR (rapidocr, whose
models ship in the wheel). A missing system package fails the test with what to install."""

import io
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import docx
import pytest

from chengguan.documents import rendering


def require_pdf_tools() -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("需要 Debian 软件包 poppler-utils（pdftoppm）：apt-get install poppler-utils")
    if not rendering._font_installed():
        pytest.fail(f"需要中文字体 {rendering.PDF_FONT}：apt-get install fonts-noto-cjk")


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@lru_cache(maxsize=1)
def _ocr_engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def ocr_pdf(data: bytes, *, first_page_only: bool = True, dpi: int = 110, top_mm: int | None = None) -> str:
    """The text OCR reads off the PDF's drawn pages (not its text layer): what a reader sees.
    `top_mm` reads only that much of the top of each page (the title: faster)."""
    require_pdf_tools()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "doc.pdf"
        pdf.write_bytes(data)
        args = ["pdftoppm", "-r", str(dpi), "-png"] + (["-f", "1", "-l", "1"] if first_page_only else [])
        if top_mm:
            args += ["-x", "0", "-y", "0", "-W", str(round(210 / 25.4 * dpi)), "-H", str(round(top_mm / 25.4 * dpi))]
        subprocess.run([*args, str(pdf), str(Path(tmp) / "page")], check=True, capture_output=True)
        lines = []
        for page in sorted(Path(tmp).glob("page*.png")):
            result, _ = _ocr_engine()(str(page))
            lines.extend(text for _, text, _ in result or [])
    return "\n".join(lines)


def compact(text: str) -> str:
    """OCR output without spaces, with the full-width/half-width forms OCR mixes up unified."""
    return text.replace(" ", "").replace("（", "(").replace("）", ")").replace("￥", "¥").replace("，", ",")
