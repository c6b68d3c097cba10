"""Rendering: every default template with a complete example context, both files readable;
refusals of incomplete contexts, naming the key; escaping of context values."""

import copy
import subprocess

import pytest

from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.documents import rendering, services
from chengguan.documents.examples import example_context
from chengguan.documents.kinds import KEY_LABELS, KINDS
from chengguan.documents.models import DocumentTemplate

from .support import compact, docx_text, ocr_pdf, require_pdf_tools

ALL_REQUIRED = [(kind, key) for kind, spec in KINDS.items() for key in spec.required]


def without(context: dict, key: str, empty=None) -> dict:
    context = copy.deepcopy(context)
    *path, last = key.split(".")
    node = context
    for part in path:
        node = node[part]
    if empty is None:
        del node[last]
    else:
        node[last] = empty
    return context


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_default_template_renders_with_a_complete_context(kind, document_defaults):
    require_pdf_tools()
    spec = KINDS[kind]
    context = example_context(kind)
    docx, pdf = services.render(kind, context)

    text = docx_text(docx)
    assert spec.name in text and context["agency"]["name"] in text and "（未编号）" in text
    if "party.name" in spec.required:
        assert context["party"]["name"] in text
    # The PDF as drawn: the title is legible (the wrong-glyph trap of DESIGN.md draws other
    # characters while the text layer stays right, so the text layer is not enough).
    assert pdf.startswith(b"%PDF")
    layer = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert spec.name in layer.replace(" ", "")
    assert spec.name in compact(ocr_pdf(pdf, top_mm=80))


def test_decision_prints_amounts_payment_and_remedies(document_defaults):
    context = example_context("penalty_decision")
    docx, _ = services.render("penalty_decision", context)
    text = docx_text(docx)
    assert "¥1,234.00" in text and "壹仟贰佰叁拾肆元整" in text
    assert "十五日内" in text and "百分之三加处罚款" in text and "第七十二条" in text
    assert "六十日内向上海市闵行区人民政府申请行政复议" in text and "六个月内依法向人民法院提起行政诉讼" in text
    assert "二〇二六年" in text or "二〇" in text  # 公文 date


def test_warning_only_decision_has_no_payment_block(document_defaults):
    context = example_context("penalty_decision")
    context["penalty"] = {"description": "警告", "fine": "0"}
    text = docx_text(services.render("penalty_decision", context)[0])
    assert "警告" in text and "缴纳罚款" not in text and "¥" not in text


def test_on_the_spot_decision_says_reconsideration_comes_first(document_defaults):
    text = docx_text(services.render("simple_penalty_decision", example_context("simple_penalty_decision"))[0])
    assert "《中华人民共和国行政复议法》第二十三条" in text and "先自收到本决定书之日起六十日内" in text
    assert "也可以自收到本决定书之日起六个月内" not in text
    assert "¥200.00" in text and "贰佰元整" in text and "王建国" in text


@pytest.mark.parametrize(("kind", "key"), ALL_REQUIRED)
def test_a_missing_key_is_refused_with_its_name(kind, key, document_defaults):
    with pytest.raises(ValidationFailed) as refused:
        services.render(kind, without(example_context(kind), key))
    assert refused.value.code == "document_context_missing"
    assert refused.value.field == key
    assert key in refused.value.message and KEY_LABELS[key] in refused.value.message


@pytest.mark.parametrize("empty", ["  ", []])
def test_blank_values_count_as_missing(empty, document_defaults):
    with pytest.raises(ValidationFailed) as refused:
        services.render("penalty_decision", without(example_context("penalty_decision"), "evidence", empty))
    assert refused.value.field == "evidence"


def test_every_required_key_is_labelled_and_used_by_its_default_template(document_defaults):
    for kind, spec in KINDS.items():
        body = DocumentTemplate.objects.get(kind=kind, version=1).body
        for key in spec.required:
            assert key in KEY_LABELS, key
            assert key in body, f"{kind}: {key}"


def test_context_values_are_escaped_not_interpreted(document_defaults):
    context = example_context("penalty_decision")
    context["party"]["name"] = "<b>某某</b>公司 & 合伙"
    html = rendering.render_html(services.active_template("penalty_decision").body,
                                 services.prepare_context("penalty_decision", context))
    assert "&lt;b&gt;某某&lt;/b&gt;公司 &amp; 合伙" in html
    text = docx_text(services.render("penalty_decision", context)[0])
    assert "<b>某某</b>公司 & 合伙" in text


def test_float_money_is_refused(document_defaults):
    context = example_context("penalty_decision")
    context["penalty"]["fine"] = 1234.0
    with pytest.raises(ValidationFailed) as refused:
        services.render("penalty_decision", context)
    assert refused.value.code == "float_amount"


def test_unknown_kind_and_non_dict_context_are_refused(document_defaults):
    with pytest.raises(ValidationFailed) as refused:
        services.render("love_letter", {})
    assert refused.value.code == "unknown_document_kind"
    with pytest.raises(ValidationFailed):
        services.render("penalty_decision", ["not", "a", "dict"])


def test_a_kind_without_an_active_template_is_refused(document_defaults):
    services.retire_template(services.active_template("file_index"), by=None)
    with pytest.raises(BusinessRuleError) as refused:
        services.render("file_index", example_context("file_index"))
    assert refused.value.code == "document_template_missing"


def test_docx_layout_is_a4_with_gongwen_margins_and_page_numbers(document_defaults):
    import io

    import docx as python_docx

    document = python_docx.Document(io.BytesIO(services.render("penalty_decision",
                                                                example_context("penalty_decision"))[0]))
    section = document.sections[0]
    # Word stores lengths in twips: compare in whole millimetres.
    assert [round(length.mm) for length in (section.page_width, section.page_height)] == [210, 297]
    assert [round(length.mm) for length in (section.top_margin, section.bottom_margin, section.left_margin,
                                            section.right_margin)] == [37, 35, 28, 26]
    assert 'w:instr="PAGE"' in section.footer._element.xml
    assert document.paragraphs[1].text == "行政处罚决定书"
