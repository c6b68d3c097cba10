"""Excel import of a day's tickets: a good file is taken in whole, any row error refuses the
whole file with every error listed by row and column, resent tickets are counted and not
duplicated, real-world cells (mixed date cells, numbers for phones) are read as meant."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from chengguan.core.choices import RoleCode
from chengguan.core.errors import ValidationFailed
from chengguan.workorders.choices import Channel
from chengguan.workorders.models import WorkOrder
from chengguan.workorders.services import imports, intake, repeats

pytestmark = pytest.mark.django_db

HEADER = ["工单号", "受理时间", "标题", "诉求内容", "地址", "经度", "纬度", "反映人", "联系电话", "分类"]
FJ3 = Path(__file__).resolve().parents[3].parent / "shared/datasets/tipdm2020c/fj3_hot_full4326.xlsx"
FJ3_ALIASES = {"留言编号": "工单号", "留言时间": "受理时间", "留言主题": "标题", "留言详情": "诉求内容",
               "留言用户": None, "反对数": None, "点赞数": None}


@pytest.fixture
def dispatcher(users):
    return users[RoleCode.DISPATCHER]


def xlsx(rows, header=HEADER, name="工单.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def recent(hours: int = 2) -> dt.datetime:
    """A naive local time a little while ago, as an Excel date cell holds it."""
    return timezone.localtime().replace(tzinfo=None, microsecond=0) - dt.timedelta(hours=hours)


def test_a_good_file_creates_every_order_with_its_values(org, dispatcher):
    received = recent()
    upload = xlsx([
        ["HL-001", received, "夜间施工", "工地夜间施工噪声扰民", "某某路 1 号", 121.405, 31.105, "张三",
         13812345678, "street_occupation"],
        [20240501002, received.strftime("%Y/%m/%d %H:%M:%S"), "", "路边乱设摊", "", None, None, "", "", ""],
        [None, None, None, None, None, None, None, None, None, None],  # a blank row is skipped
    ])
    result = imports.import_orders(upload, by=dispatcher, channel=Channel.HOTLINE_12345)
    assert result.ok, result.errors
    assert (result.created, result.existing, result.rows) == (2, 0, 2)
    first = WorkOrder.objects.get(external_ticket="HL-001")
    assert (first.channel, first.text, first.squad, first.grid) == ("12345", "工地夜间施工噪声扰民", org.squad_a,
                                                                    org.grid_a1)
    assert first.reporter_phone == "13812345678", "a phone stored as a number is read as its digits"
    assert first.category.code == "street_occupation"
    assert timezone.localtime(first.received_at).replace(tzinfo=None) == received
    assert first.created_by == dispatcher
    second = WorkOrder.objects.get(external_ticket="20240501002")  # an int ticket, no '.0'
    assert timezone.localtime(second.received_at).replace(tzinfo=None) == received
    assert sorted(result.numbers) == sorted(WorkOrder.objects.values_list("number", flat=True))


def test_row_errors_are_all_reported_with_row_and_column_and_nothing_is_saved(org, dispatcher):
    upload = xlsx([
        ["HL-1", recent(), "", "正常的一条", "", None, None, "", "", ""],
        ["HL-2", "昨天下午", "", "", "", None, None, "", "12ab", ""],
        ["", recent(), "", "没有工单号", "", "东经", 31.1, "", "", "不存在的分类"],
        ["HL-4", recent(-48), "", "受理时间在将来", "", None, None, "", "", ""],
    ])
    result = imports.import_orders(upload, by=dispatcher, channel=Channel.HOTLINE_12345)
    assert not result.ok and result.created == 0
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "受理时间"), (3, "诉求内容"), (3, "联系电话"),
        (4, "工单号"), (4, "经度"), (4, "分类"),
        (5, "受理时间"),
    ]
    messages = {(e.row, e.field): e.message for e in result.errors}
    assert "昨天下午" in messages[(3, "受理时间")]
    assert messages[(3, "诉求内容")] == "请填写诉求内容。"
    assert messages[(4, "工单号")] == "热线工单须填写工单号。"
    assert "不能晚于当前时间" in messages[(5, "受理时间")]
    assert WorkOrder.objects.count() == 0


def test_resent_tickets_are_counted_as_already_present_not_created_again(org, dispatcher):
    rows = [["HL-1", recent(), "", "噪声扰民", "", None, None, "", "", ""],
            ["HL-2", recent(), "", "占道经营", "", None, None, "", "", ""]]
    first = imports.import_orders(xlsx(rows), by=dispatcher, channel=Channel.HOTLINE_12345)
    assert (first.created, first.existing) == (2, 0)
    again = imports.import_orders(xlsx([*rows, ["HL-3", recent(), "", "新的一条", "", None, None, "", "", ""]]),
                                  by=dispatcher, channel=Channel.HOTLINE_12345)
    assert (again.created, again.existing) == (1, 2)
    assert WorkOrder.objects.count() == 3


def test_excel_dates_and_text_dates_in_one_column_are_both_read(org, dispatcher):
    when = recent(5)
    cells = [when, when.strftime("%Y/%-m/%-d %H:%M:%S"), when.strftime("%Y-%m-%d %H:%M"),
             when.strftime("%Y年%-m月%-d日 %H:%M"), when.strftime("%Y/%m/%d")]
    rows = [[f"T-{i}", cell, "", f"第{i}条", "", None, None, "", "", ""] for i, cell in enumerate(cells)]
    result = imports.import_orders(xlsx(rows), by=dispatcher, channel=Channel.HOTLINE_12345)
    assert result.ok, result.errors
    got = {o.external_ticket: timezone.localtime(o.received_at).replace(tzinfo=None)
           for o in WorkOrder.objects.all()}
    assert got["T-0"] == got["T-1"] == when
    assert got["T-2"] == when.replace(second=0)
    assert got["T-3"] == when.replace(second=0)
    assert got["T-4"] == when.replace(hour=0, minute=0, second=0)


def test_wrong_headers_are_named_in_one_error(org, dispatcher):
    upload = xlsx([["1", "内容"]], header=["编号", "内容", "受理时间"])
    result = imports.import_orders(upload, by=dispatcher, channel=Channel.HOTLINE_12345)
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.row == 1 and error.code == "wrong_columns"
    assert "缺少列：诉求内容、工单号" in error.message and "无法识别的列：编号、内容" in error.message


def test_a_ticket_column_is_not_required_for_other_channels(org, dispatcher):
    upload = xlsx([["领导交办的事项"]], header=["诉求内容"])
    result = imports.import_orders(upload, by=dispatcher, channel=Channel.LEADERSHIP)
    assert (result.ok, result.created) == (True, 1)
    assert WorkOrder.objects.get().channel == Channel.LEADERSHIP


def test_a_file_that_is_not_xlsx_is_refused_clearly(org, dispatcher):
    upload = SimpleUploadedFile("工单.xlsx", "工单号,诉求内容\n1,噪声\n".encode())
    result = imports.import_orders(upload, by=dispatcher, channel=Channel.HOTLINE_12345)
    assert [(e.row, e.message) for e in result.errors] == [(0, "无法读取文件，请上传 Excel（.xlsx）格式的文件。")]


def test_an_empty_sheet_and_an_unknown_channel_are_refused(org, dispatcher):
    result = imports.import_orders(xlsx([]), by=dispatcher, channel=Channel.HOTLINE_12345)
    assert [e.code for e in result.errors] == ["empty_file"]
    with pytest.raises(ValidationFailed):
        imports.import_orders(xlsx([]), by=dispatcher, channel="fax")


def test_only_the_command_centre_may_import(org, users):
    with pytest.raises(PermissionDenied):
        imports.import_orders(xlsx([["HL-1", None, "", "x"] + [None] * 6]), by=users[RoleCode.OFFICER],
                              channel=Channel.HOTLINE_12345)
    assert WorkOrder.objects.count() == 0


def test_the_template_has_the_header_and_an_example_that_imports(org, dispatcher):
    book = load_workbook(io.BytesIO(imports.import_template()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 2
    result = imports.import_orders(SimpleUploadedFile("t.xlsx", imports.import_template()), by=dispatcher,
                                   channel=Channel.HOTLINE_12345)
    # the example's date lies in the past; only the one-year intake limit may refuse it
    assert result.ok or [e.code for e in result.errors] == ["too_old"]


def test_the_import_page_uploads_and_shows_the_report(client, org, dispatcher):
    client.force_login(dispatcher)
    url = reverse("workorders:import")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"channel": "12345", "file": xlsx([["HL-1", "不是日期", "", "噪声"] + [None] * 6])})
    page = bad.content.decode()
    assert bad.status_code == 200 and "第 2 行" in page and "受理时间" in page and "未导入任何数据" in page
    good = client.post(url, {"channel": "12345", "file": xlsx([["HL-1", recent(), "", "噪声"] + [None] * 6])})
    assert "新增 1 条" in good.content.decode()
    assert WorkOrder.objects.count() == 1
    template = client.get(reverse("workorders:import_template"))
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_the_import_page_is_refused_without_the_permission(client, org, users):
    client.force_login(users[RoleCode.OFFICER])
    assert client.get(reverse("workorders:import")).status_code == 403
    assert client.get(reverse("workorders:import_template")).status_code == 403


@pytest.fixture
def fj3():
    if not FJ3.exists():
        pytest.skip(f"未找到共享数据 {FJ3}（../shared 不存在），跳过真实文件导入测试。 / shared dataset missing")
    return FJ3


def test_the_real_tipdm_file_with_mixed_date_cells_imports(org, dispatcher, fj3, settings, monkeypatch):
    def upload():
        return SimpleUploadedFile(fj3.name, fj3.read_bytes())

    # As it is: its messages are from 2017–2020, older than intake accepts, and a few are
    # longer than the text limit; every row is reported and nothing is saved.
    refused = imports.import_orders(upload(), by=dispatcher, channel=Channel.SUGGESTION, aliases=FJ3_ALIASES)
    assert refused.rows == 4326 and refused.created == 0
    assert {e.field for e in refused.errors} == {"受理时间", "诉求内容"}
    assert sum(e.code == "too_old" for e in refused.errors) == 4326, "every date cell, text or Excel, was read"
    assert WorkOrder.objects.count() == 0
    # As a historical load (limits widened for this test only): all of it goes in.
    monkeypatch.setattr(intake, "MAX_BACKDATE", dt.timedelta(days=365 * 20))
    settings.WORKORDER_MAX_TEXT = 8000
    # Repeat detection has its own tests; on 4,326 unlocated messages it compares each with
    # hundreds of others in pure Python (minutes), which is not what this test is about.
    monkeypatch.setattr(repeats, "find_repeats", lambda drafts: [[] for _ in drafts])
    result = imports.import_orders(upload(), by=dispatcher, channel=Channel.SUGGESTION, aliases=FJ3_ALIASES)
    assert result.ok, result.errors[:5]
    assert (result.created, result.existing) == (4326, 0)
    first = WorkOrder.objects.get(external_ticket="188006")
    assert first.title == "A3区一米阳光婚纱艺术摄影是否合法纳税了？"
    assert timezone.localtime(first.received_at).replace(tzinfo=None) == dt.datetime(2019, 2, 28, 11, 25, 5)
    assert first.text.startswith("座落在A市A3区联丰路")
    again = imports.import_orders(upload(), by=dispatcher, channel=Channel.SUGGESTION, aliases=FJ3_ALIASES)
    assert (again.created, again.existing) == (0, 4326)
