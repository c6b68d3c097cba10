"""Excel import of a day's tickets (command centre): the upload form with its per-row error
report, and the template workbook."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from chengguan.core.errors import ChengguanError
from chengguan.core.exports import XLSX

from .choices import Channel
from .services import imports

# Channels whose tickets arrive as lists; the others come through their own screens or APIs.
IMPORT_CHANNELS = [Channel.HOTLINE_12345, Channel.HOTLINE_12319, Channel.HOTLINE_962000, Channel.SUGGESTION,
                   Channel.LEADERSHIP, Channel.MEDIA, Channel.TRANSFER]


class ImportForm(forms.Form):
    channel = forms.ChoiceField(label="来源渠道", choices=[(c.value, c.label) for c in IMPORT_CHANNELS],
                                initial=Channel.HOTLINE_12345)
    file = forms.FileField(label="Excel 文件（.xlsx）", widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
                           help_text="第一行为列名；热线工单须有工单号，已导入的工单号不会重复导入。")


@login_required
@permission_required("workorders.intake_workorder", raise_exception=True)
def import_orders(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_orders(form.cleaned_data["file"], by=request.user,
                                           channel=form.cleaned_data["channel"])
        except ChengguanError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "workorders/import.html", {"form": form, "result": result})


@login_required
@permission_required("workorders.intake_workorder", raise_exception=True)
def import_template(request):
    response = HttpResponse(imports.import_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "工单导入模板.xlsx")
    return response
