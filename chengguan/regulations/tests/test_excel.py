"""Excel import/export of the catalogue: an export imports back unchanged; bad rows are each
reported in Chinese with sheet, row and column, and then nothing at all is saved; a published
version cannot be changed through an import."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from chengguan.core.models import AuditEvent
from chengguan.regulations import services
from chengguan.regulations.choices import BenchmarkStatus
from chengguan.regulations.models import (
    Benchmark,
    BenchmarkTier,
    ExemptionEntry,
    LegalBasis,
    Matter,
)

pytestmark = pytest.mark.django_db
MATTER_HEADER = [h for _, h, _ in services.MATTER_COLUMNS]
TIER_HEADER = [h for _, h, _ in services.TIER_COLUMNS]
EXEMPTION_HEADER = [h for _, h, _ in services.EXEMPTION_COLUMNS]


def workbook(matters=(), tiers=(), exemptions=()) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.title = services.MATTER_SHEET
    for row in [MATTER_HEADER, *matters]:
        sheet.append(list(row))
    for title, header, rows in ((services.TIER_SHEET, TIER_HEADER, tiers),
                                (services.EXEMPTION_SHEET, EXEMPTION_HEADER, exemptions)):
        s = book.create_sheet(title)
        for row in [header, *rows]:
            s.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


MATTER_ROW = ["T-100", "露天烧烤", "环境保护", "《中华人民共和国大气污染防治法》第八十一条第三款",
              "《中华人民共和国大气污染防治法》第一百一十八条第三款", "并处五百元以上二万元以下的罚款",
              "没收非法财物、没收违法所得、罚款", "是", "是", ""]
TIER_ROWS = [["T-100", 1, "2024-01-01", "", "", 1, "轻微", "", "流动摊点", "固定幅度", "500", "2000", "", "", "", "",
              "", ""],
             ["T-100", 1, "2024-01-01", "", "", 2, "严重", "单位", "", "固定幅度", "2000", "20000", "", "", "", "", "",
              ""]]
EXEMPTION_ROWS = [["T-100", "首违不罚", "首次被发现并及时改正", "2024-01-01", "", "演示清单"]]


def counts():
    return tuple(m.objects.count() for m in (Matter, Benchmark, BenchmarkTier, ExemptionEntry, LegalBasis,
                                            AuditEvent))


def test_import_creates_matters_draft_versions_and_exemptions():
    result = services.import_catalogue(workbook([MATTER_ROW], TIER_ROWS, EXEMPTION_ROWS), by=None)
    assert result.ok, [str(e) for e in result.errors]
    assert (result.matters_created, result.benchmarks_created, result.exemptions_created) == (1, 1, 1)
    matter = Matter.objects.get(code="T-100")
    assert matter.penalty_kinds == ["confiscate_property", "confiscate_gains", "fine"]
    assert [b.citation for b in matter.penalty_bases.all()] == ["《中华人民共和国大气污染防治法》第一百一十八条第三款"]
    benchmark = matter.benchmarks.get()
    assert benchmark.status == BenchmarkStatus.DRAFT  # publishing stays a reviewed step
    assert [t.label for t in benchmark.tiers.all()] == ["轻微", "严重"]


def test_export_imports_back_unchanged(published):
    services.create_exemption(published.matter, by=None, kind="轻微不罚", conditions="及时改正",
                              valid_from=published.valid_from)
    data = services.export_catalogue()
    before = counts()
    result = services.import_catalogue(io.BytesIO(data), by=None)
    assert result.ok, [str(e) for e in result.errors]
    assert (result.matters_created, result.matters_updated, result.benchmarks_created) == (0, 0, 0)
    assert result.unchanged == 3 and counts() == before
    book = load_workbook(io.BytesIO(data))
    assert book[services.TIER_SHEET]["S2"].value == "已发布"


def test_errors_name_sheet_row_and_column_and_nothing_is_saved(published):
    bad_matter = [*MATTER_ROW]
    bad_matter[2] = "天气"  # unknown category
    bad_matter[4] = "大气法118条"  # not a citation
    tiers = [TIER_ROWS[0],
             ["T-100", 1, "2024-01-01", "", "", 2, "严重", "", "", "固定幅度", "3000", "2000", "", "", "", "", "", ""],
             ["NOPE", 1, "2024-01-01", "", "", 1, "一般", "", "", "固定幅度", "1", "2", "", "", "", "", "", ""]]
    exemptions = [["T-100", "看心情不罚", "x", "2024-01-01", "", ""]]
    before = counts()
    result = services.import_catalogue(workbook([MATTER_ROW[:], bad_matter], tiers, exemptions), by=None)
    where = {(e.sheet, e.row, e.field, e.code) for e in result.errors}
    assert ("执法事项", 3, "事项编码", "duplicate_row") in where
    assert ("裁量基准", 3, "最低罚款（元）", "invalid_range") in where
    assert ("裁量基准", 4, "事项编码", "unknown_matter") in where
    assert ("免罚清单", 2, "免罚类型", "invalid_exemption_kind") in where
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in result.errors)
    assert counts() == before


def test_row_errors_of_one_matter(db):
    bad = [*MATTER_ROW]
    bad[2], bad[4], bad[6] = "天气", "大气法118条", "打板子"
    result = services.import_catalogue(workbook([bad]), by=None)
    fields = {(e.row, e.field, e.code) for e in result.errors}
    assert {(2, "类别", "invalid_category"), (2, "处罚依据", "invalid_citation"),
            (2, "处罚种类", "invalid_penalty_kind")} <= fields
    assert Matter.objects.count() == 0


def test_published_version_cannot_be_changed_by_import(published):
    rows = [[published.matter.code, 1, "2024-01-01", "", "", 1, "轻微", "", "", "固定幅度", "1", "9999", "", "", "", "",
             "", ""]]
    before = counts()
    result = services.import_catalogue(workbook([], rows), by=None)
    assert [(e.sheet, e.field, e.code) for e in result.errors] == [("裁量基准", "版本号", "benchmark_frozen")]
    assert "新版本" in result.errors[0].message
    assert counts() == before


def test_unreadable_file_and_wrong_header(db):
    assert services.import_catalogue(io.BytesIO(b"not excel"), by=None).errors[0].code == "invalid_file"
    book = Workbook()
    book.active.title = services.MATTER_SHEET
    book.active.append(["编码", "名称"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    error = services.import_catalogue(buffer, by=None).errors[0]
    assert error.code == "wrong_columns" and "缺少列" in error.message
