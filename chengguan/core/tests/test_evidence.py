import datetime as dt
import hashlib
import io
import os
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from chengguan.core.choices import RoleCode
from chengguan.core.errors import BusinessRuleError, ValidationFailed
from chengguan.core.evidence import evidence_storage, open_verified, store_evidence
from chengguan.core.models import AuditEvent, Evidence
from chengguan.core.testing import make_user

# --- real little files, built by hand ---------------------------------------------------------


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    # SOI + JFIF APP0 segment + EOI: the header every camera JPEG starts with.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def pdf_bytes() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ))
        archive.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>现场检查笔录</w:t></w:r></w:p></w:body></w:document>"
        ))
    return out.getvalue()


def plain_zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return out.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(content: bytes, name: str = "现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")  # the declared type is ignored


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def evidence_root(tmp_path, settings):
    """A private evidence store per test, never var/evidence."""
    root = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    root.mkdir()
    return root


@pytest.fixture
def officer(users):
    return users[RoleCode.OFFICER]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- storing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "name", "mime"), [
    (png_bytes(), "a.png", "image/png"),
    (jpeg_bytes(), "b.jpg", "image/jpeg"),
    (pdf_bytes(), "询问笔录.pdf", "application/pdf"),
    (docx_bytes(), "检查笔录.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
], ids=["png", "jpeg", "pdf", "docx"])
def test_allowed_types_are_stored_by_content_address(evidence_root, officer, org, content, name, mime):
    evidence = store_evidence(upload(content, name), by=officer)

    sha = hashlib.sha256(content).hexdigest()
    assert (evidence.sha256, evidence.size, evidence.content_type, evidence.original_name) == (sha, len(content), mime, name)
    assert evidence.squad == org.squad_a  # the uploader's squad
    assert stored_files(evidence_root) == [f"{sha[:2]}/{sha[2:4]}/{sha}"]
    assert (evidence_root / evidence.storage_name).read_bytes() == content
    assert AuditEvent.objects.filter(action="evidence.upload", object_type="core.evidence",
                                     object_id=str(evidence.pk), actor=officer).exists()


@pytest.mark.parametrize(("content", "name"), [
    (HTML, "photo.jpg"),
    (ELF, "photo.jpg"),
    (EXE, "photo.jpg"),
    (plain_zip_bytes(), "report.docx"),
    (b"just some text, no magic bytes", "note.png"),
], ids=["html", "elf", "exe", "plain-zip", "text"])
def test_disguised_or_unlisted_types_are_refused_and_nothing_is_written(evidence_root, officer, content, name):
    with pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(content, name), by=officer)

    assert refused.value.code == "file_type_not_allowed"
    assert "按文件内容识别" in refused.value.message
    assert not Evidence.objects.exists()
    assert stored_files(evidence_root) == []


def test_declared_extension_does_not_matter_content_does(evidence_root, officer):
    evidence = store_evidence(upload(pdf_bytes(), "photo.jpg"), by=officer)

    assert evidence.content_type == "application/pdf"


def test_empty_file_is_refused(evidence_root, officer):
    with pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(b"", "empty.png"), by=officer)

    assert refused.value.code == "empty_file"
    assert stored_files(evidence_root) == []


def test_oversize_file_is_refused_with_the_limit_in_mb(evidence_root, officer):
    content = png_bytes() + b"\x00" * (1024 * 1024)
    with override_settings(EVIDENCE_MAX_BYTES=1024 * 1024), pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(content), by=officer)

    assert refused.value.code == "file_too_large"
    assert "1 MB" in refused.value.message
    assert not Evidence.objects.exists()
    assert stored_files(evidence_root) == []


def test_file_at_the_limit_is_accepted(evidence_root, officer):
    content = png_bytes()
    with override_settings(EVIDENCE_MAX_BYTES=len(content)):
        assert store_evidence(upload(content), by=officer).size == len(content)


@pytest.mark.parametrize(("lon", "lat", "field", "code"), [
    (200.0, 31.1, "lon", "out_of_range"),
    (121.4, 60.0, "lat", "out_of_range"),
    (31.1, 121.4, "lon", "out_of_range"),  # swapped coordinates
    (121.4, None, "lat", "required"),
])
def test_place_must_be_a_wgs84_point_in_china(evidence_root, officer, lon, lat, field, code):
    with pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(png_bytes()), by=officer, lon=lon, lat=lat)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert stored_files(evidence_root) == []


def test_metadata_is_kept(evidence_root, officer):
    taken = timezone.now() - dt.timedelta(hours=2)
    evidence = store_evidence(upload(png_bytes()), by=officer, lon=121.405, lat=31.105, captured_at=taken,
                              description="占道经营现场")
    evidence.refresh_from_db()

    assert (evidence.lon, evidence.lat, evidence.captured_at, evidence.description) == (121.405, 31.105, taken, "占道经营现场")
    assert evidence.uploaded_by == officer


def test_capture_time_in_the_future_is_refused(evidence_root, officer):
    with pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(png_bytes()), by=officer, captured_at=timezone.now() + dt.timedelta(days=1))

    assert refused.value.code == "in_future"


def test_squad_outside_the_uploaders_scope_is_refused(evidence_root, officer, org):
    with pytest.raises(ValidationFailed) as refused:
        store_evidence(upload(png_bytes()), by=officer, squad=org.squad_b)

    assert refused.value.code == "invalid_squad"
    assert stored_files(evidence_root) == []


def test_identical_content_shares_one_blob_that_is_not_rewritten(evidence_root, officer, users):
    content = png_bytes()
    first = store_evidence(upload(content, "a.png"), by=officer)
    blob = evidence_root / first.storage_name
    os.utime(blob, (1_000_000_000, 1_000_000_000))

    second = store_evidence(upload(content, "b.png"), by=users[RoleCode.SQUAD_LEADER])

    assert first.pk != second.pk and first.sha256 == second.sha256
    assert (first.original_name, second.original_name) == ("a.png", "b.png")
    assert stored_files(evidence_root) == [first.storage_name]
    assert blob.stat().st_mtime == 1_000_000_000


def test_corrupt_blob_is_restored_by_a_verified_identical_upload_and_the_repair_recorded(evidence_root, officer):
    content = png_bytes()
    first = store_evidence(upload(content), by=officer)
    (evidence_root / first.storage_name).write_bytes(b"tampered")

    store_evidence(upload(content), by=officer)

    assert (evidence_root / first.storage_name).read_bytes() == content
    assert stored_files(evidence_root) == [first.storage_name]
    assert AuditEvent.objects.filter(action="evidence.blob_repaired", object_id=first.sha256).exists()
    open_verified(first, by=officer).close()  # the earlier record is whole again


# --- verified reading -----------------------------------------------------------------------


def test_open_verified_returns_the_bytes_and_records_who_looked(evidence_root, officer, users):
    content = pdf_bytes()
    evidence = store_evidence(upload(content, "a.pdf"), by=officer)
    leader = users[RoleCode.SQUAD_LEADER]

    with open_verified(evidence, by=leader) as data:
        assert data.read() == content
    assert AuditEvent.objects.filter(action="evidence.download", object_id=str(evidence.pk), actor=leader).exists()


@pytest.mark.parametrize("damage", ["modify", "truncate", "delete"])
def test_tampered_blob_is_refused(evidence_root, officer, damage):
    evidence = store_evidence(upload(png_bytes()), by=officer)
    blob = evidence_root / evidence.storage_name
    if damage == "modify":
        data = bytearray(blob.read_bytes())
        data[-1] ^= 0xFF
        blob.write_bytes(bytes(data))
    elif damage == "truncate":
        blob.write_bytes(blob.read_bytes()[:-4])
    else:
        blob.unlink()

    with pytest.raises(BusinessRuleError) as refused:
        open_verified(evidence, by=officer)

    assert refused.value.code == "evidence_tampered"
    assert not AuditEvent.objects.filter(action="evidence.download").exists()
    assert AuditEvent.objects.filter(action="evidence.tamper_detected", object_id=str(evidence.pk)).exists()


def test_storage_is_the_configured_evidence_storage(evidence_root):
    assert evidence_storage().location == str(evidence_root)


# --- API ----------------------------------------------------------------------------------


def test_api_upload_list_detail_and_download(evidence_root, officer, org):
    content = png_bytes()
    response = api(officer).post("/api/v1/evidence/", {
        "file": upload(content, "现场照片.png"), "lon": "121.405", "lat": "31.105",
        "captured_at": "2025-03-01T09:30:00+08:00", "description": "违法停车",
    }, format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert (body["content_type"], body["squad"], body["lon"], body["description"]) == ("image/png", org.squad_a.pk, 121.405, "违法停车")

    listed = api(officer).get("/api/v1/evidence/").json()["results"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert api(officer).get(f"/api/v1/evidence/{body['id']}/").json()["original_name"] == "现场照片.png"

    download = api(officer).get(body["download_url"], HTTP_ACCEPT="image/png")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == "attachment; filename*=utf-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"


def test_api_refuses_a_disguised_file_with_its_code(evidence_root, officer):
    response = api(officer).post("/api/v1/evidence/", {"file": upload(HTML, "photo.jpg")}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "file_type_not_allowed"
    assert not Evidence.objects.exists() and stored_files(evidence_root) == []


def test_api_download_of_tampered_evidence_sends_no_bytes(evidence_root, officer):
    evidence = store_evidence(upload(png_bytes()), by=officer)
    (evidence_root / evidence.storage_name).write_bytes(png_bytes(3, 3))

    response = api(officer).get(f"/api/v1/evidence/{evidence.pk}/download/")

    assert response.status_code == 409
    assert response.json()["code"] == "evidence_tampered"


def test_evidence_outside_the_data_scope_is_not_found(evidence_root, officer, org, users):
    evidence = store_evidence(upload(png_bytes()), by=officer)
    other_squad = make_user(RoleCode.OFFICER, org.squad_b)

    client = api(other_squad)
    assert client.get("/api/v1/evidence/").json()["results"] == []
    assert client.get(f"/api/v1/evidence/{evidence.pk}/").status_code == 404
    assert client.get(f"/api/v1/evidence/{evidence.pk}/download/").status_code == 404
    assert not AuditEvent.objects.filter(action="evidence.download").exists()
    # Bureau-wide roles see every squad's evidence.
    assert api(users[RoleCode.SUPERVISOR]).get(f"/api/v1/evidence/{evidence.pk}/").status_code == 200


def test_api_requires_authentication(evidence_root):
    assert APIClient().get("/api/v1/evidence/").status_code == 401


# --- staff page download ------------------------------------------------------------------


def test_session_download_is_verified_and_scoped(evidence_root, officer, org, client):
    content = docx_bytes()
    evidence = store_evidence(upload(content, "检查笔录.docx"), by=officer)
    url = f"/evidence/{evidence.pk}/download/"

    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content

    client.force_login(make_user(RoleCode.OFFICER, org.squad_b))
    assert client.get(url).status_code == 404

    (evidence_root / evidence.storage_name).write_bytes(b"PK\x03\x04 changed")
    client.force_login(officer)
    refused = client.get(url)
    assert refused.status_code == 409
    assert "校验失败" in refused.content.decode()


def test_download_name_gets_the_detected_extension(evidence_root, officer, client):
    evidence = store_evidence(upload(pdf_bytes(), "scan.jpg"), by=officer)
    client.force_login(officer)

    response = client.get(f"/evidence/{evidence.pk}/download/?inline=1")

    assert response["Content-Disposition"] == 'inline; filename="scan.jpg.pdf"'
    assert response["Content-Type"] == "application/pdf"


def test_admin_lists_evidence_read_only(evidence_root, officer, users, client):
    evidence = store_evidence(upload(png_bytes(), "占道经营.png"), by=officer)
    admin_user = users[RoleCode.ADMIN]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)

    listing = client.get("/admin/core/evidence/")
    assert listing.status_code == 200
    assert "占道经营.png" in listing.content.decode()
    assert f"/evidence/{evidence.pk}/download/" in listing.content.decode()
    assert client.get("/admin/core/evidence/add/").status_code == 403
