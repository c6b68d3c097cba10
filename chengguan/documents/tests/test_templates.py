"""Template versions: drafts change in place, active and retired versions are frozen and an
edit becomes a new version; only safe template syntax is accepted; admins edit in the admin."""

import pytest
from django.db import IntegrityError, transaction

from chengguan.core.errors import AuditBypassError, BusinessRuleError, ValidationFailed
from chengguan.core.models import AuditEvent, NumberFormat
from chengguan.documents import services
from chengguan.documents.choices import TemplateStatus
from chengguan.documents.examples import example_context
from chengguan.documents.kinds import KINDS, number_kind
from chengguan.documents.models import DocumentTemplate

from .support import docx_text

S = TemplateStatus


def test_every_kind_has_an_active_default_template_and_a_number_format(document_defaults):
    for kind, spec in KINDS.items():
        template = services.active_template(kind)
        assert (template.version, template.name) == (1, spec.name)
        assert NumberFormat.objects.get(kind=number_kind(kind)).pattern == spec.number_pattern
    assert KINDS["penalty_decision"].number_pattern.format(year=2026, seq=7) == "闵城管罚决字〔2026〕第00007号"


def test_editing_an_active_template_makes_a_new_active_version(document_defaults, admin_user):
    v1 = services.active_template("penalty_decision")
    body = v1.body.replace("行政处罚决定书</h1>", "行政处罚决定书</h1>\n<p class=\"center\">（修订版）</p>")
    v2 = services.revise_template(v1, body=body, by=admin_user, note="增加修订标注")
    v1.refresh_from_db()
    assert (v2.version, v2.status, v1.status) == (2, S.ACTIVE, S.RETIRED)
    assert "（修订版）" not in v1.body and "（修订版）" in v2.body
    assert services.active_template("penalty_decision") == v2
    assert "（修订版）" in docx_text(services.render("penalty_decision", example_context("penalty_decision"))[0])
    assert AuditEvent.objects.filter(action="document_template.revise", actor=admin_user).exists()
    # Rolling back: the retired version can be activated again.
    services.activate_template(v1, by=admin_user)
    v2.refresh_from_db()
    assert (services.active_template("penalty_decision"), v2.status) == (v1, S.RETIRED)


def test_a_draft_changes_in_place_until_activated(document_defaults, admin_user):
    current = services.active_template("file_index")
    draft = services.create_template("file_index", body=current.body + "<p>草稿</p>", by=admin_user)
    assert (draft.version, draft.status) == (2, S.DRAFT)
    edited = services.revise_template(draft, body=current.body + "<p>改过的草稿</p>", by=admin_user)
    assert edited.pk == draft.pk and "改过的草稿" in edited.body
    assert services.active_template("file_index") == current  # drafts are not used
    services.activate_template(draft, by=admin_user)
    current.refresh_from_db()
    assert current.status == S.RETIRED and services.active_template("file_index").pk == draft.pk


def test_a_used_version_cannot_be_changed_or_deleted_directly(document_defaults):
    template = services.active_template("penalty_decision")
    template.body = "<p>偷偷改</p>"
    with pytest.raises(BusinessRuleError) as refused:
        template.save()
    assert refused.value.code == "document_template_frozen"
    with pytest.raises(BusinessRuleError):
        services.active_template("penalty_decision").delete()
    with pytest.raises(AuditBypassError):
        DocumentTemplate.objects.filter(kind="penalty_decision").update(body="x")


def test_only_one_active_version_per_kind(document_defaults):
    current = services.active_template("file_index")
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentTemplate.objects.create(kind="file_index", name="卷宗目录", version=9, status=S.ACTIVE, body=current.body)


@pytest.mark.parametrize(("body", "complaint"), [
    ("<p>{{ party.name|safe }}</p>", "|safe"),
    ("{% autoescape off %}<p>{{ party.name }}</p>{% endautoescape %}", "autoescape"),
    ('{% include "base.html" %}', "include"),
    ("{% load static %}<p>x</p>", "load"),
    ("{% debug %}", "debug"),
    ("<p>{{ facts }}</p><script>alert(1)</script>", "<script>"),
    ('<p>x</p><img src="http://example.com/a.png">', "<img>"),
    ('<p style="background: url(file:///etc/passwd)">x</p>', "style"),
    ("<p>{% if party.name %}未闭合</p>", "语法错误"),
    ("   ", "不能为空"),
])
def test_unsafe_or_broken_templates_are_refused(body, complaint, document_defaults, admin_user):
    with pytest.raises(ValidationFailed) as refused:
        services.create_template("file_index", body=body, by=admin_user)
    assert refused.value.code == "invalid_template" and refused.value.field == "body"
    assert complaint in refused.value.message
    assert DocumentTemplate.objects.filter(kind="file_index").count() == 1


def test_admin_edit_of_an_active_template_saves_a_new_version(document_defaults, admin_user, client):
    v1 = services.active_template("hearing_notice")
    client.force_login(admin_user)
    url = f"/admin/documents/documenttemplate/{v1.pk}/change/"
    assert client.get(url).status_code == 200
    body = v1.body.replace("听证通知书</h1>", "听证通知书</h1><p class=\"center\">（第二版）</p>")
    response = client.post(url, {"name": v1.name, "body": body, "note": "管理员修订"})
    assert response.status_code == 302
    v1.refresh_from_db()
    v2 = services.active_template("hearing_notice")
    assert (v1.status, v2.version, v2.created_by) == (S.RETIRED, 2, admin_user)
    assert "（第二版）" in v2.body and "（第二版）" not in v1.body

    bad = client.post(f"/admin/documents/documenttemplate/{v2.pk}/change/",
                      {"name": v2.name, "body": "<p>{{ x|safe }}</p>", "note": ""})
    assert bad.status_code == 200 and "不允许使用过滤器 |safe" in bad.content.decode()
    assert DocumentTemplate.objects.filter(kind="hearing_notice").count() == 2


def test_officers_cannot_edit_templates_in_the_admin(document_defaults, officer, client):
    officer.is_staff = True
    officer.save()
    template = services.active_template("hearing_notice")
    client.force_login(officer)
    url = f"/admin/documents/documenttemplate/{template.pk}/change/"
    response = client.post(url, {"name": template.name, "body": "<p>改</p>", "note": ""})
    assert response.status_code == 403
    assert DocumentTemplate.objects.filter(kind="hearing_notice").count() == 1
    assert client.get("/admin/documents/issueddocument/").status_code == 403
