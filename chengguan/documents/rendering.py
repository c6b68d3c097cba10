"""From a template body and a context to DOCX and PDF bytes.

A template body is a Django template (autoescaped, rendered from a string by an isolated
engine) that produces a small HTML subset: `h1` title, `p` paragraphs (classes below), `h2`
section headings, `div.signature` for the agency / seal / date block, tables for forms, and
`strong`, `u`, `span`, `br` inside text. The same HTML is typeset by WeasyPrint for the PDF and
walked into python-docx paragraphs and tables for the DOCX, so both files say the same thing.

Safety: only the template tags and filters listed here may be used (no `safe`, no
`{% autoescape off %}`, no `{% include %}`, `{% load %}` or `{% debug %}`), context values are
plain JSON (no objects whose methods a template could call), only the HTML tags and attributes
listed here are accepted, and WeasyPrint may fetch nothing (no file, no network)."""

import io
import logging
import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils.html import escape

from chengguan.core.errors import BusinessRuleError, ValidationFailed

PDF_FONT = "Noto Serif CJK SC"  # Debian fonts-noto-cjk (DESIGN.md, known traps)
DOCX_BODY_FONT = "仿宋"
DOCX_TITLE_FONT = "宋体"
DOCX_HEADING_FONT = "黑体"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"

ALLOWED_TAGS = {"h1", "h2", "p", "div", "br", "strong", "b", "u", "span", "table", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"class", "colspan"}
BLOCK_TAGS = {"h1", "h2", "p"}
INLINE_FORMATS = {"strong": "bold", "b": "bold", "u": "underline"}
ALLOWED_TEMPLATE_TAGS = {
    "if", "elif", "else", "endif", "for", "empty", "endfor", "with", "endwith", "comment", "endcomment",
    "firstof", "cycle", "spaceless", "endspaceless",
}
ALLOWED_FILTERS = {
    "default", "default_if_none", "length", "linebreaksbr", "yesno", "join", "first", "last", "add",
    "upper", "lower", "cut", "center", "ljust", "rjust", "date",
    "yuan", "yuan_upper", "cn_int", "gongwen_date", "cn_date", "cn_datetime", "positive",
}
FILTER_RE = re.compile(r"\|\s*(\w+)")
HTML_SPACE_RE = re.compile(r"[ \t\r\n\f]+")  # HTML's white space; U+3000 (全角空格) is text

# 公文 page (GB/T 9704-2012): A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
# page numbers "— 1 —" centred at the foot.
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
BODY_PT, TITLE_PT, AGENCY_PT, TABLE_PT = 14, 22, 16, 12
STYLESHEET = f"""
@page {{
  size: A4;
  margin: {MARGINS_MM['top']}mm {MARGINS_MM['right']}mm {MARGINS_MM['bottom']}mm {MARGINS_MM['left']}mm;
  @bottom-center {{ content: "— " counter(page) " —"; font-family: "{PDF_FONT}"; font-size: 12pt; }}
}}
body {{ font-family: "{PDF_FONT}"; font-size: {BODY_PT}pt; line-height: 1.7; color: #000; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
p.agency {{ text-indent: 0; text-align: center; font-size: {AGENCY_PT}pt; font-weight: bold; }}
h1 {{ margin: 0.2em 0 0.4em; text-align: center; font-size: {TITLE_PT}pt; font-weight: bold; letter-spacing: 0.1em; }}
p.number {{ text-indent: 0; text-align: right; margin-bottom: 0.8em; }}
h2 {{ margin: 0.5em 0 0.1em; font-size: {BODY_PT}pt; font-weight: bold; }}
p.noindent, td p, th p {{ text-indent: 0; }}
p.center, .center {{ text-indent: 0; text-align: center; }}
p.right, .right {{ text-indent: 0; text-align: right; }}
div.signature {{ margin-top: 2em; }}
div.signature p {{ text-indent: 0; text-align: right; }}
table {{ width: 100%; border-collapse: collapse; font-size: {TABLE_PT}pt; margin: 0.5em 0; }}
th, td {{ border: 1px solid #000; padding: 4pt 6pt; vertical-align: top; text-align: left; }}
th {{ font-weight: bold; text-align: center; vertical-align: middle; }}
td.label {{ width: 22%; text-align: center; vertical-align: middle; }}
tr.tall td {{ height: 22mm; }}
"""


# --- the template language --------------------------------------------------------------------

@lru_cache(maxsize=1)
def engine() -> Engine:
    return Engine(
        autoescape=True, loaders=[], libraries={}, string_if_invalid="",
        builtins=["chengguan.documents.templatetags.document_filters"],
    )


class _TagChecker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problem = ""

    def handle_starttag(self, tag, attrs):
        if self.problem:
            return
        if tag not in ALLOWED_TAGS:
            self.problem = f"不允许使用 <{tag}> 标签（可用：{'、'.join(sorted(ALLOWED_TAGS))}）"
        elif bad := [name for name, _ in attrs if name not in ALLOWED_ATTRIBUTES]:
            self.problem = f"<{tag}> 不允许使用 {bad[0]} 属性（只可用 class、colspan）"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(f"文书模板无效：{message}。", field="body", code="invalid_template")


def validate_body(body: str) -> None:
    """Refuse a template body that uses a tag, filter or HTML element outside the lists above,
    or that does not compile. Run on every save of a template."""
    if not (body or "").strip():
        raise _invalid("正文不能为空")
    for token in Lexer(body).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.split_contents()[0] if token.contents.strip() else ""
            if name not in ALLOWED_TEMPLATE_TAGS:
                raise _invalid(f"不允许使用模板标签 {{% {name} %}}（可用：{'、'.join(sorted(ALLOWED_TEMPLATE_TAGS))}）")
        if token.token_type in (TokenType.BLOCK, TokenType.VAR):
            for name in FILTER_RE.findall(token.contents):
                if name not in ALLOWED_FILTERS:
                    raise _invalid(f"不允许使用过滤器 |{name}（可用：{'、'.join(sorted(ALLOWED_FILTERS))}）")
    checker = _TagChecker()
    checker.feed(body)
    checker.close()
    if checker.problem:
        raise _invalid(checker.problem)
    try:
        engine().from_string(body)
    except TemplateSyntaxError as exc:
        raise _invalid(f"模板语法错误（{exc}）") from None


def render_html(body: str, context: dict) -> str:
    return engine().from_string(body).render(Context(context, autoescape=True))


# --- HTML → blocks ----------------------------------------------------------------------------

@dataclass
class Run:
    text: str
    bold: bool = False
    underline: bool = False


@dataclass
class Paragraph:
    tag: str  # h1, h2, p
    classes: frozenset
    runs: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass
class Cell:
    header: bool
    colspan: int
    classes: frozenset
    paragraphs: list = field(default_factory=list)


@dataclass
class Row:
    classes: frozenset
    cells: list = field(default_factory=list)


@dataclass
class Table:
    rows: list = field(default_factory=list)


class _Blocks(HTMLParser):
    """Turns the rendered HTML into paragraphs and tables with formatted runs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list = []
        self.divs: list[frozenset] = []  # classes of the enclosing divs
        self.formats: list[str] = []
        self.paragraph: Paragraph | None = None
        self.table: Table | None = None
        self.cell: Cell | None = None

    def _container(self) -> list:
        return self.cell.paragraphs if self.cell is not None else self.blocks

    def _open(self, tag: str, classes: frozenset) -> None:
        self._close()
        for div in self.divs:
            classes |= div
        self.paragraph = Paragraph(tag, classes)

    def _close(self) -> None:
        if self.paragraph is None:
            return
        runs = self.paragraph.runs
        if runs:  # HTML drops white space at the edges of a line box
            runs[0].text = runs[0].text.lstrip(" ")
            runs[-1].text = runs[-1].text.rstrip(" ")
        self.paragraph.runs = [run for run in runs if run.text]
        if self.paragraph.runs or self.paragraph.tag != "p":
            self._container().append(self.paragraph)
        self.paragraph = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = frozenset((attributes.get("class") or "").split())
        if tag in BLOCK_TAGS:
            self._open(tag, classes)
        elif tag == "div":
            self._close()
            self.divs.append(classes)
        elif tag == "br":
            if self.paragraph is None:
                self._open("p", frozenset({"noindent"}))
            self.paragraph.runs.append(Run("\n"))
        elif tag in INLINE_FORMATS or tag == "span":
            self.formats.append(INLINE_FORMATS.get(tag, ""))
        elif tag == "table":
            self._close()
            self.table = Table()
        elif tag == "tr" and self.table is not None:
            self.table.rows.append(Row(classes))
        elif tag in ("td", "th") and self.table is not None and self.table.rows:
            self._close()
            try:
                colspan = max(1, int(attributes.get("colspan") or 1))
            except ValueError:
                colspan = 1
            self.cell = Cell(tag == "th", colspan, classes)
            self.table.rows[-1].cells.append(self.cell)

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self._close()
        elif tag == "div":
            self._close()
            if self.divs:
                self.divs.pop()
        elif (tag in INLINE_FORMATS or tag == "span") and self.formats:
            self.formats.pop()
        elif tag in ("td", "th"):
            self._close()
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.blocks.append(self.table)
            self.table = None

    def handle_data(self, data):
        text = HTML_SPACE_RE.sub(" ", data)
        if self.paragraph is None:
            if not text.strip(" "):
                return
            self._open("p", frozenset({"noindent"}) if self.cell is not None else frozenset())
        if self.paragraph.runs and self.paragraph.runs[-1].text.endswith((" ", "\n")):
            text = text.lstrip(" ")
        if text:
            self.paragraph.runs.append(Run(text, "bold" in self.formats, "underline" in self.formats))

    def close(self):
        super().close()
        self._close()


def parse_blocks(html: str) -> list:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


def plain_text(blocks: list) -> str:
    """The text of the blocks, a line per paragraph (titles for files and tests)."""
    lines = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            for row in block.rows:
                for cell in row.cells:
                    lines.extend(p.text for p in cell.paragraphs)
    return "\n".join(lines)


# --- DOCX -------------------------------------------------------------------------------------

def _set_font(target, name: str) -> None:
    """Set the Latin and East Asian font of a style or run (Word picks CJK glyphs from eastAsia)."""
    from docx.oxml.ns import qn

    target.font.name = name
    fonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _page_number_footer(section) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    field_ = OxmlElement("w:fldSimple")
    field_.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field_.append(run)
    paragraph._p.append(field_)
    paragraph.add_run(" —")


def _fill_paragraph(paragraph, block: Paragraph, *, in_table: bool, header: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    classes = block.classes
    fmt = paragraph.paragraph_format
    size, font, bold = (TABLE_PT if in_table else BODY_PT), None, header
    if block.tag == "h1":
        paragraph.alignment, size, font, bold = WD_ALIGN_PARAGRAPH.CENTER, TITLE_PT, DOCX_TITLE_FONT, True
        fmt.space_after = Pt(8)
    elif block.tag == "h2":
        font, bold = DOCX_HEADING_FONT, True
        fmt.space_before = Pt(6)
    elif "agency" in classes:
        paragraph.alignment, size, font, bold = WD_ALIGN_PARAGRAPH.CENTER, AGENCY_PT, DOCX_TITLE_FONT, True
    elif "number" in classes or "right" in classes or "signature" in classes:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif "center" in classes or header:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif not in_table and "noindent" not in classes:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        fmt.first_line_indent = Pt(BODY_PT * 2)  # two characters, as in the PDF
    for part in block.runs:
        pieces = part.text.split("\n")
        for index, piece in enumerate(pieces):
            run = paragraph.add_run(piece)
            run.font.size = Pt(size)
            run.bold = bold or part.bold
            run.underline = part.underline
            if font:
                _set_font(run, font)
            if index < len(pieces) - 1:
                run.add_break()


def _add_table(document, table: Table) -> None:
    from docx.shared import Mm

    columns = max((sum(cell.colspan for cell in row.cells) for row in table.rows), default=0)
    if not columns:
        return
    grid = document.add_table(rows=len(table.rows), cols=columns)
    grid.style = "Table Grid"
    for row_index, row in enumerate(table.rows):
        if "tall" in row.classes:
            grid.rows[row_index].height = Mm(22)
        column = 0
        for cell in row.cells:
            if column >= columns:
                break
            target = grid.cell(row_index, column)
            end = min(column + cell.colspan, columns) - 1
            if end > column:
                target = target.merge(grid.cell(row_index, end))
            for index, block in enumerate(cell.paragraphs or [Paragraph("p", frozenset())]):
                paragraph = target.paragraphs[0] if index == 0 else target.add_paragraph()
                _fill_paragraph(paragraph, block, in_table=True, header=cell.header)
            column = end + 1
    document.add_paragraph()


def to_docx(blocks: list, *, title: str) -> bytes:
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    normal = document.styles["Normal"]
    _set_font(normal, DOCX_BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.space_after = Pt(0)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    _page_number_footer(section)
    document.core_properties.title = title
    document.core_properties.author = ""
    for block in blocks:
        if isinstance(block, Table):
            _add_table(document, block)
        else:
            _fill_paragraph(document.add_paragraph(), block, in_table=False)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------

def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"文书不得引用外部资源：{url}")


@lru_cache(maxsize=1)
def _font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list", f":family={PDF_FONT}", "family"], capture_output=True, text=True,
                               timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return PDF_FONT in found.stdout


def check_pdf_engine():
    """The WeasyPrint HTML class, or a refusal saying what the server lacks. Imported here, not
    at module level, so the platform still starts on a machine without pango."""
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per step otherwise
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise BusinessRuleError(
            f"服务器缺少 PDF 排版组件（WeasyPrint / pango：{exc}），无法生成 PDF 文书，请联系系统管理员。",
            code="document_pdf_unavailable",
        ) from None
    if not _font_installed():
        raise BusinessRuleError(
            f"服务器缺少中文字体 {PDF_FONT}（Debian 软件包 fonts-noto-cjk），无法生成 PDF 文书，请联系系统管理员。",
            code="document_font_missing",
        )
    return HTML


def to_pdf(html: str, *, title: str) -> bytes:
    HTML = check_pdf_engine()
    page = (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLESHEET}</style></head><body>{html}</body></html>")
    return HTML(string=page, url_fetcher=_refuse_fetch).write_pdf()
