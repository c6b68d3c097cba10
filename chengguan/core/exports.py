"""Excel exports of scoped lists. Callers pass a queryset that already went through
`restrict()`; every export is itself recorded in the audit chain (who took which data out)."""

import io
from collections.abc import Callable, Iterable, Sequence

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from . import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_EXPORT_ROWS = 200_000


def xlsx_response(title: str, columns: Sequence[tuple[str, Callable]], rows: Iterable, *, model, filters: dict,
                  actor) -> HttpResponse:
    """columns: (Chinese header, value getter) pairs; one sheet, header row frozen."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    sheet.append([header for header, _ in columns])
    count = 0
    for row in rows:
        if count >= MAX_EXPORT_ROWS:
            break
        sheet.append([getter(row) for _, getter in columns])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.append(model._meta.app_label, [{
        "action": "export", "object_type": model._meta.label_lower, "object_id": "list",
        "after": {"rows": count, "filters": {k: v for k, v in filters.items() if v not in ("", None)}},
    }], actor=actor)
    filename = f"{title}-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
