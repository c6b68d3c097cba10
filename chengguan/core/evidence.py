"""Evidence store: uploaded files kept under their SHA-256 (content address), never overwritten,
checked by content on the way in and re-verified on every way out.

Blobs live in `storages["evidence"]` (file system by default, S3-compatible object storage when
EVIDENCE_STORAGE=s3) at `ab/cd/<sha256>`. Each upload gets its own `Evidence` row (who, when,
where, when captured); identical bytes share one blob.

Callers look evidence up through `Evidence.objects.restrict(user)` (out of scope is a 404)
before calling `open_verified`."""

import datetime as dt
import hashlib
import io
import os
import tempfile

import filetype
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from . import audit
from .choices import OrgUnitKind
from .errors import BusinessRuleError, ValidationFailed
from .models import Evidence, OrgUnit

CHUNK = 1024 * 1024
SNIFF_BYTES = 8192  # what `filetype` looks at

# Allowed types by detected MIME → file-name extensions that fit it (first one is used when a
# download name lacks a fitting extension). Anything else, including plain ZIP archives,
# executables, HTML and scripts (which `filetype` does not recognise), is refused.
ALLOWED_TYPES = {
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic", "heif"),
    "image/bmp": ("bmp",),
    "video/mp4": ("mp4",),
    "video/quicktime": ("mov",),
    "video/x-msvideo": ("avi",),
    "video/3gpp": ("3gp",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a",),
    "audio/x-wav": ("wav",),
    "audio/amr": ("amr",),
    "audio/aac": ("aac",),
    "application/pdf": ("pdf",),
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
}
ALLOWED_LABEL = "图片（JPG、PNG、GIF、WEBP、HEIC、BMP）、视频（MP4、MOV、AVI、3GP）、音频（MP3、M4A、WAV、AMR、AAC）、PDF、Office 文档（DOC、XLS、DOCX、XLSX、PPTX）"

# WGS-84 extent of China (the same box as validate_polygon).
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


def evidence_storage():
    return storages["evidence"]


def _max_mb() -> str:
    return f"{settings.EVIDENCE_MAX_BYTES / (1024 * 1024):g}"


def _check_place(lon, lat) -> None:
    if (lon is None) != (lat is None):
        field = "lat" if lat is None else "lon"
        raise ValidationFailed("经度和纬度须同时填写或同时留空。", field=field, code="required")
    if lon is None:
        return
    for value, (low, high), field, label in ((lon, LON_RANGE, "lon", "经度"), (lat, LAT_RANGE, "lat", "纬度")):
        if not low <= value <= high:
            raise ValidationFailed(
                f"{label} {value} 超出中国范围（{low:g}–{high:g}），请确认使用 WGS-84 经纬度。",
                field=field, code="out_of_range",
            )


def _check_captured_at(captured_at):
    if captured_at is None:
        return None
    if timezone.is_naive(captured_at):
        captured_at = timezone.make_aware(captured_at)
    # A few minutes of clock skew between a camera and the server is normal.
    if captured_at > timezone.now() + dt.timedelta(minutes=10):
        raise ValidationFailed("拍摄/采集时间不能晚于当前时间。", field="captured_at", code="in_future")
    return captured_at


def _check_squad(squad, by):
    """An explicit squad must be a squad within the uploader's data scope; otherwise the
    uploader's own squad, or for staff above squad level their own unit, so that the uploader
    and their unit's scope keep seeing it."""
    if squad is None:
        return (by.org_unit.squad() or by.org_unit) if by.org_unit_id else None
    if squad.kind != OrgUnitKind.SQUAD or not OrgUnit.objects.restrict(by).filter(pk=squad.pk).exists():
        raise ValidationFailed("所选中队不存在或不在您的数据范围内。", field="squad", code="invalid_squad")
    return squad


def _original_name(uploaded_file) -> str:
    # Browsers on Windows may send a full path; keep the base name, and its end when too long.
    name = os.path.basename((getattr(uploaded_file, "name", "") or "").replace("\\", "/")).strip()
    return (name or "未命名文件")[-255:]


def _spool(uploaded_file):
    """Copy the upload to an anonymous temp file while hashing it, never holding it whole in
    memory; refuse as soon as it passes the size limit. Returns (tmp, sha256, size, head)."""
    limit = settings.EVIDENCE_MAX_BYTES
    digest, size, head = hashlib.sha256(), 0, b""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; closed here on refusal
    try:
        for chunk in uploaded_file.chunks(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ValidationFailed(
                    f"文件超过大小上限 {_max_mb()} MB。", field="file", code="file_too_large"
                )
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            digest.update(chunk)
            tmp.write(chunk)
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return tmp, digest.hexdigest(), size, head


def detect_type(head: bytes) -> str:
    """The MIME type read from the file's magic bytes, or a refusal. The name is not consulted."""
    kind = filetype.guess(head) if head else None
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationFailed(
            f"不支持的文件类型（按文件内容识别，而非扩展名）。允许的类型：{ALLOWED_LABEL}。",
            field="file", code="file_type_not_allowed",
        )
    return kind.mime


def _read_blob(name: str, sink=None) -> tuple[str | None, int]:
    """SHA-256 and size of a stored blob, copying it into `sink` on the way; (None, 0) when
    the blob is missing."""
    digest, size = hashlib.sha256(), 0
    try:
        blob = evidence_storage().open(name, "rb")
    except FileNotFoundError:
        return None, 0
    with blob:
        for chunk in iter(lambda: blob.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
    return digest.hexdigest(), size


def _write_blob(name: str, tmp, sha256: str, by) -> None:
    """Write the blob unless it is already there. An existing blob is re-hashed: if it no
    longer matches its name it was damaged or tampered with, and it is replaced by these bytes,
    which verifiably are the original content (their SHA-256 is the name every earlier record
    holds). The repair is put on the record so the incident is not hidden."""
    storage = evidence_storage()
    if storage.exists(name):
        if _read_blob(name)[0] == sha256:
            return
        storage.delete(name)
        audit.append("core", [{
            "action": "evidence.blob_repaired", "object_type": "core.evidence_blob", "object_id": sha256,
            "before": {"sha256_mismatch": True}, "after": {"storage_name": name},
        }], actor=by)
    saved = storage.save(name, File(tmp, name=name))
    if saved != name:
        # A concurrent upload of the same bytes stored the blob first; drop our copy.
        storage.delete(saved)


def store_generated(data: bytes, *, by, name: str, content_type: str, squad=None, description: str = "",
                    audit_action: str = "evidence.generate") -> Evidence:
    """Keep a file the system produced itself (a frozen list, a generated document) in the
    same content-addressed store. Its type is known, so no magic-byte check applies."""
    sha256 = hashlib.sha256(data).hexdigest()
    evidence = Evidence(sha256=sha256, size=len(data), content_type=content_type, original_name=name,
                        uploaded_by=by, squad=squad, description=description[:255])
    _write_blob(evidence.storage_name, io.BytesIO(data), sha256, by)
    evidence.save(audit_action=audit_action, actor=by)
    return evidence


def store_evidence(uploaded_file, *, by, squad=None, lon=None, lat=None, captured_at=None,
                   description: str = "") -> Evidence:
    """Store one upload (a Django File/UploadedFile) and create its `Evidence` row. Every check
    runs before anything is written: a refused upload leaves no blob and no row."""
    _check_place(lon, lat)
    captured_at = _check_captured_at(captured_at)
    squad = _check_squad(squad, by)
    description = (description or "").strip()
    if len(description) > 255:
        raise ValidationFailed("说明不能超过 255 个字。", field="description", code="too_long")

    tmp, sha256, size, head = _spool(uploaded_file)
    with tmp:
        if size == 0:
            raise ValidationFailed("文件为空。", field="file", code="empty_file")
        content_type = detect_type(head)
        evidence = Evidence(
            sha256=sha256, size=size, content_type=content_type, original_name=_original_name(uploaded_file),
            uploaded_by=by, squad=squad, lon=lon, lat=lat, captured_at=captured_at, description=description,
        )
        # The blob goes first, outside any transaction of ours: a row never points at a missing
        # blob, and a blob whose row was rolled back is only an unreferenced copy.
        _write_blob(evidence.storage_name, tmp, sha256, by)
    with transaction.atomic():
        evidence.save(audit_action="evidence.upload", actor=by)
    return evidence


def open_verified(evidence: Evidence, *, by):
    """The stored bytes of `evidence` in a local temp file (positioned at 0, the caller closes
    it), after checking they still hash to the recorded SHA-256. Copying before sending means a
    mismatch is found before the first byte reaches anyone, and what is sent is exactly what was
    verified. Every access is recorded: who looked at which evidence
    (《上海市浦东新区城市管理领域非现场执法规定》第十六条)."""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller; closed here on refusal
    try:
        actual, size = _read_blob(evidence.storage_name, tmp)
    except BaseException:
        tmp.close()
        raise
    if actual != evidence.sha256 or size != evidence.size:
        tmp.close()
        audit.record("evidence.tamper_detected", evidence,
                     after={"expected_sha256": evidence.sha256, "actual_sha256": actual}, actor=by)
        raise BusinessRuleError(
            "证据文件校验失败：存储的内容与上传时的 SHA-256 哈希不一致（文件缺失、损坏或被篡改），已拒绝提供。请联系系统管理员。",
            code="evidence_tampered",
        )
    audit.record("evidence.download", evidence, after={"sha256": evidence.sha256}, actor=by)
    tmp.seek(0)
    return tmp


def download_name(evidence: Evidence) -> str:
    """The original name, with an extension that fits the detected type (a PDF uploaded as
    photo.jpg downloads as photo.jpg.pdf, so it opens with the right program)."""
    extensions = ALLOWED_TYPES.get(evidence.content_type, ())
    name = evidence.original_name
    if extensions and not name.lower().endswith(tuple(f".{ext}" for ext in extensions)):
        name = f"{name}.{extensions[0]}"
    return name
