"""Shared pieces of the Excel imports (registry, work orders, addresses): one row-error type
and one message for a header that does not fit the template."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    row: int  # Excel row number (the header is row 1); 0 for the file itself
    field: str  # Chinese column name ("" for the whole row or file)
    message: str
    code: str = "invalid"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def header_mismatch(missing=(), unknown=(), repeated=()) -> str | None:
    """The Chinese message for a header row that does not fit the template, or None."""
    parts = []
    if missing:
        parts.append(f"缺少列：{'、'.join(missing)}")
    if unknown:
        parts.append(f"无法识别的列：{'、'.join(unknown)}")
    if repeated:
        parts.append(f"重复的列：{'、'.join(repeated)}")
    return "表头与导入模板不符（" + "；".join(parts) + "）。请使用导入模板的列名。" if parts else None
