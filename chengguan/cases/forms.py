"""Forms of the case screens. A form renders the page's inputs and turns what was posted into
the shape of the API request for the same command; the API's input serializer checks that
shape (one validation path for the API and the screens) and the service verb applies every
rule. A refusal — bad input, a refused step or a missing right — becomes a Chinese form error
and nothing is saved (services are atomic; uploads are stored in the same transaction)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.utils import ErrorDict
from django.utils import timezone

from chengguan.core.errors import ChengguanError
from chengguan.core.evidence import store_evidence
from chengguan.core.models import OrgUnit, User
from chengguan.regulations.choices import FineRule, PenaltyKind
from chengguan.regulations.models import BenchmarkTier, ExemptionEntry, Matter
from chengguan.regulations.services import benchmark_for, exemptions_for, simple_procedure_limit

from . import selectors
from .api import serializers as s
from .choices import (
    AppealKind,
    AppealOutcome,
    CourtResult,
    DecisionOutcome,
    IdType,
    MeasureKind,
    MeasureOutcome,
    NoPenaltyGround,
    PartyKind,
    PaymentMethod,
    PlanKind,
    RecordKind,
    ServiceMethod,
    SourceKind,
    TransferKind,
)
from .filters import CaseFilter
from .models import Case
from .services import commands, simple, workflow

MAX_FILES = 9
TEXTAREA = {"rows": 3}


def _date(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def _money(**attrs):
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


def _text(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


def yuan(amount) -> str:
    """150.00 → "150", 99.50 → "99.5" (for labels and hints)."""
    return format(amount.normalize(), "f") if amount is not None else ""


def _choices(choices, empty="请选择"):
    return [("", empty), *choices]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class UploadField(forms.FileField):
    """Files stored as evidence (store_evidence, same transaction as the step) and passed to
    the service as `target`: a list, or one file when `many` is false."""

    def __init__(self, *, target: str = "evidence", many: bool = True, description: str = "", **kwargs):
        self.target, self.many, self.description = target, many, description
        attrs = {"accept": kwargs.pop("accept", "image/*,application/pdf")}
        widget = MultipleFileInput(attrs={**attrs, "multiple": True}) if many else forms.FileInput(attrs=attrs)
        kwargs.setdefault("required", False)
        super().__init__(widget=widget, **kwargs)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.real_name or obj.username


class PeopleField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.real_name or obj.username


class SquadChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def _flatten(errors, path=()):
    """(path, message) of every error in a DRF `errors` structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, (*path, str(key)))
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                yield from _flatten(value, (*path, str(index)))
            else:
                yield path, str(value)
    else:
        yield path, str(errors)


class SerializerForm(forms.Form):
    """A form validated by an API input serializer, saved by a service verb (`run`)."""

    serializer: type | None = None
    # serializer / service field name → form field, where they differ
    field_map: dict[str, str] = {}
    # nested keys in serializer errors → their Chinese names
    sub_labels: dict[str, str] = {}
    # visible sections of a long form: (title, [field names])
    fieldsets: list[tuple[str, list[str]]] = []

    def __init__(self, data=None, files=None, *, user, request=None, prefix=None, initial=None):
        self.user = user
        self.request = request or SimpleNamespace(user=user)
        super().__init__(data, files, prefix=prefix, initial=initial)

    @property
    def multipart(self) -> bool:
        return any(isinstance(f, UploadField) for f in self.fields.values())

    @property
    def has_inputs(self) -> bool:
        return bool(self.visible_fields())

    # --- parsing ---------------------------------------------------------------------------

    def raw(self, name):
        return self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def input_data(self) -> dict:
        """What was posted, as the API would receive it: lists for multiple choices, booleans
        for checkboxes, text stripped; empty inputs left out (the serializer's defaults apply)."""
        data = {}
        for name, field in self.fields.items():
            if isinstance(field, forms.FileField) or field.disabled:
                continue
            value = self.raw(name)
            if isinstance(field.widget, forms.CheckboxInput):
                data[name] = bool(value)
            elif getattr(field.widget, "allow_multiple_selected", False):
                data[name] = [v for v in (value or []) if v not in ("", None)]
            elif isinstance(value, str) and value.strip():
                data[name] = value.strip()
        return self.transform(data)

    def transform(self, data: dict) -> dict:
        """Rename or regroup the posted values into the serializer's fields."""
        return data

    def serializer_context(self) -> dict:
        return {"request": self.request}

    def full_clean(self):
        self._errors = ErrorDict()
        self.cleaned_data = {}
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            if isinstance(field, UploadField) and len(self._uploads(name)) > (MAX_FILES if field.many else 1):
                self.add_error(name, f"一次最多上传 {MAX_FILES if field.many else 1} 个文件。")
        checked = self.serializer(data=self.input_data(), context=self.serializer_context())
        if not checked.is_valid():
            for path, message in _flatten(checked.errors):
                self._add(path, message)
        elif not self._errors:
            self.cleaned_data = dict(checked.validated_data)

    def _form_field(self, name: str | None) -> str | None:
        if not name:
            return None
        for candidate in (self.field_map.get(name), name, name.split("[")[0], name.rsplit(".", 1)[-1]):
            if candidate and candidate in self.fields:
                return candidate
        return None

    def _add(self, path: tuple, message: str) -> None:
        if not path or path[0] in ("non_field_errors", "__all__"):
            self.add_error(None, message)
            return
        detail = "".join(f"第{int(p) + 1}项" if p.isdigit() else self.sub_labels.get(p, "") for p in path[1:])
        text = f"{detail}：{message}" if detail else message
        name = self._form_field(path[0])
        if name is None:
            self.add_error(None, text)
        else:
            self.add_error(name, text)

    # --- saving ----------------------------------------------------------------------------

    def _uploads(self, name: str) -> list:
        return self.files.getlist(self.add_prefix(name)) if self.files else []

    def evidence_squad(self):
        return None

    def evidence_place(self) -> dict:
        return {}

    def _store_uploads(self) -> dict:
        stored = {}
        for name, field in self.fields.items():
            if not isinstance(field, UploadField):
                continue
            items = [store_evidence(upload, by=self.user, squad=self.evidence_squad(), description=field.description,
                                    **self.evidence_place()) for upload in self._uploads(name)]
            if field.many:
                stored[field.target] = items
            elif items:
                stored[field.target] = items[0]
        return stored

    def run(self, data: dict):
        raise NotImplementedError

    def save(self):
        """The service's result, or None with the refusal on the form (nothing saved)."""
        if not self.is_valid():
            return None
        try:
            with transaction.atomic():
                return self.run({**self.cleaned_data, **self._store_uploads()})
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or "您没有执行该操作的权限。")
        except ChengguanError as exc:
            self.add_error(self._form_field(exc.field), exc.message)
        return None

    def error_text(self) -> str:
        """All errors in one line, each field's named (for the page's message)."""
        parts = [str(e) for e in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name != "__all__":
                parts += [f"{self.fields[name].label}：{e}" for e in errors]
        return "；".join(parts)

    def groups(self):
        """The fieldsets as (title, sub-form) pairs for core/_form_fields.html."""
        return [(title, _FieldGroup(self, names)) for title, names in self.fieldsets]


class _FieldGroup:
    """Some of a form's visible fields, shaped like a form for core/_form_fields.html."""

    def __init__(self, form, names):
        self.bound = [form[name] for name in names if name in form.fields]
        self.has_place = "lon" in names

    def non_field_errors(self):
        return []

    def hidden_fields(self):
        return [f for f in self.bound if f.is_hidden]

    def visible_fields(self):
        return [f for f in self.bound if not f.is_hidden]


# --- parties --------------------------------------------------------------------------------------

PARTY_KEYS = ("kind", "name", "id_type", "id_number", "credit_code", "legal_representative", "phone", "address")


class PartyFields(forms.Form):
    """One party (当事人): the ID number for a person, the credit code for an organisation;
    the service checks both (check digit, date of birth) and names the field it refuses."""

    party_kind = forms.ChoiceField(label="当事人类型", choices=PartyKind.choices, initial=PartyKind.PERSON,
                                   widget=forms.Select(attrs={"data-party-kind": "1"}))
    party_name = forms.CharField(label="姓名/名称", max_length=200)
    party_id_type = forms.ChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT_ID,
                                      widget=forms.Select(attrs={"data-party": PartyKind.PERSON}))
    party_id_number = forms.CharField(label="证件号码", max_length=40, required=False, widget=forms.TextInput(
        attrs={"data-party": PartyKind.PERSON, "autocomplete": "off", "autocapitalize": "characters"}))
    party_credit_code = forms.CharField(label="统一社会信用代码", max_length=18, required=False, widget=forms.TextInput(
        attrs={"data-party": PartyKind.ORGANISATION, "autocomplete": "off", "autocapitalize": "characters"}))
    party_legal_representative = forms.CharField(label="法定代表人/负责人", max_length=50, required=False,
                                                 widget=forms.TextInput(attrs={"data-party": PartyKind.ORGANISATION}))
    party_phone = forms.CharField(label="联系电话", max_length=32, required=False,
                                  widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    party_address = forms.CharField(label="住所/地址", max_length=255, required=False)

    PARTY_FIELDS = [f"party_{key}" for key in PARTY_KEYS]

    def party_values(self, data: dict) -> dict:
        return {key: data.pop(f"party_{key}") for key in PARTY_KEYS if f"party_{key}" in data}


def _party_map(prefix: str) -> dict[str, str]:
    return {f"{prefix}{key}": f"party_{key}" for key in PARTY_KEYS}


# --- the verbs of the case page -------------------------------------------------------------------

class CaseActionForm(SerializerForm):
    """One workflow verb on one case (its label from workflow.TRANSITIONS / ACTIONS)."""

    verb = ""
    one_click = False

    def __init__(self, data=None, files=None, *, case: Case, user, request=None):
        self.case = case
        super().__init__(data, files, user=user, request=request, prefix=self.verb, initial=self.initial_for(case))
        self.label = workflow.label(self.verb)
        self.setup()

    @classmethod
    def available(cls, case: Case) -> bool:
        """Whether the verb has something to act on (e.g. an open measure)."""
        return True

    def initial_for(self, case: Case) -> dict:
        return {}

    def setup(self) -> None:
        """Choices that depend on the case."""

    def serializer_context(self) -> dict:
        return {**super().serializer_context(), "case": self.case}

    def evidence_squad(self):
        return self.case.squad

    def run(self, data):
        return commands.run(self.verb, self.case, by=self.user, data=data)


class _OfficersForm(CaseActionForm):
    lead_officer = PersonChoiceField(label="主办人员", queryset=User.objects.none(), empty_label="请选择")
    assist_officers = PeopleField(label="协办人员", queryset=User.objects.none(), required=False,
                                  help_text="执法人员不得少于两人，均须持有效行政执法证件（《行政处罚法》第四十二条）。")
    field_map = {"officers": "assist_officers"}

    def setup(self):
        members = selectors.squad_members(self.case.squad)
        self.fields["lead_officer"].queryset = members
        self.fields["assist_officers"].queryset = members

    def initial_for(self, case):
        links = list(case.case_officers.all())
        lead = next((link.officer_id for link in links if link.role == "lead"), None)
        return {"lead_officer": lead, "assist_officers": [link.officer_id for link in links if link.role != "lead"]}

    def transform(self, data):
        lead = data.pop("lead_officer", None)
        data["officers"] = ([lead] if lead else []) + [pk for pk in data.pop("assist_officers", []) if pk != lead]
        return data


class FileForm(_OfficersForm):
    verb, serializer = "file", s.FileSerializer
    matter = forms.ModelChoiceField(label="执法事项", queryset=Matter.objects.none(), empty_label="请选择")
    act_date = forms.DateField(label="违法行为发生日期", widget=_date())
    note = forms.CharField(label="立案意见", max_length=500, required=False, widget=_text(2))

    def setup(self):
        super().setup()
        self.fields["matter"].queryset = Matter.objects.filter(is_active=True)

    def initial_for(self, case):
        return {**super().initial_for(case), "matter": case.matter_id, "act_date": case.act_date}


class AssignOfficersForm(_OfficersForm):
    verb, serializer = "assign_officers", s.OfficersSerializer


class AddPartyForm(CaseActionForm, PartyFields):
    verb, serializer = "add_party", s.PartyInputSerializer
    field_map = _party_map("")

    def transform(self, data):
        return self.party_values(data)


class AddRecordForm(CaseActionForm):
    verb, serializer = "add_record", s.RecordSerializer
    kind = forms.ChoiceField(label="笔录种类", choices=_choices(RecordKind.choices))
    place = forms.CharField(label="地点", max_length=200, required=False)
    content = forms.CharField(label="笔录内容", max_length=20000, widget=_text(5))
    party_signed = forms.BooleanField(label="当事人已签名", required=False, initial=True)
    refusal_note = forms.CharField(label="未签名的原因", max_length=300, required=False,
                                   help_text="当事人拒绝签名的，注明情况并由见证人签名。")
    correction_due = forms.DateField(label="改正期限", required=False, widget=_date(),
                                     help_text="责令改正通知须填写。")
    evidence = UploadField(label="照片、录音录像或扫描件", description="案件笔录附件")


class AddMeasureForm(CaseActionForm):
    verb, serializer = "add_measure", s.MeasureCreateSerializer
    kind = forms.ChoiceField(label="措施种类", choices=_choices(MeasureKind.choices))
    items = forms.CharField(label="物品清单", max_length=5000, widget=_text())
    started_on = forms.DateField(label="开始日期", required=False, widget=_date(), help_text="不填为今日。")


class AddEmergencyMeasureForm(CaseActionForm):
    verb, serializer = "add_emergency_measure", s.EmergencyMeasureSerializer
    kind = forms.ChoiceField(label="措施种类", choices=_choices(
        [c for c in MeasureKind.choices if c[0] != MeasureKind.PRESERVATION]))
    items = forms.CharField(label="物品清单", max_length=5000, widget=_text())
    reason = forms.CharField(label="紧急情况说明", max_length=500, widget=_text(2))
    started_at = forms.DateTimeField(label="实施时间", required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"),
                                     help_text="不填为现在。紧急情况下当场实施的，应当在二十四小时内报告并补办批准手续"
                                               "（《行政强制法》第十九条）。")


class MeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()}（{obj.started_on:%Y-%m-%d} 起，期限 {obj.due_on:%Y-%m-%d}）"


class ExtendMeasureForm(CaseActionForm):
    verb, serializer = "extend_measure", s.MeasureExtendSerializer
    measure = MeasureChoiceField(label="查封/扣押", queryset=None, empty_label=None)
    reason = forms.CharField(label="延长理由", max_length=300, help_text="情况复杂的，经批准可延长一次，不超过三十日。")
    testing_days = forms.IntegerField(label="检测、检验、检疫、鉴定天数", required=False, min_value=0,
                                      help_text="不计入查封、扣押期限（《行政强制法》第二十五条）。")

    @classmethod
    def available(cls, case):
        return selectors.seizures(case).exists()

    def setup(self):
        self.fields["measure"].queryset = selectors.seizures(self.case)


class PendingMeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()}（{timezone.localtime(obj.started_at):%Y-%m-%d %H:%M} 紧急实施）"


class ApproveMeasureForm(CaseActionForm):
    verb, serializer = "approve_measure", s.MeasureApproveSerializer
    measure = PendingMeasureChoiceField(label="紧急强制措施", queryset=None, empty_label=None)
    approved = forms.ChoiceField(label="审批结论", choices=[("true", "批准"), ("false", "不予批准，立即解除")],
                                 initial="true")
    reason = forms.CharField(label="审批意见", max_length=500, required=False, widget=_text(2),
                             help_text="不予批准的，写明理由。")

    @classmethod
    def available(cls, case):
        return selectors.measures_awaiting_approval(case).exists()

    def setup(self):
        self.fields["measure"].queryset = selectors.measures_awaiting_approval(self.case)


class EndMeasureForm(CaseActionForm):
    verb, serializer = "end_measure", s.MeasureEndSerializer
    measure = MeasureChoiceField(label="强制措施", queryset=None, empty_label=None)
    outcome = forms.ChoiceField(label="处理结果", choices=_choices(MeasureOutcome.choices))
    ended_on = forms.DateField(label="处理日期", required=False, widget=_date(), help_text="不填为今日。")

    @classmethod
    def available(cls, case):
        return selectors.open_measures(case).exists()

    def setup(self):
        self.fields["measure"].queryset = selectors.open_measures(self.case)


class TierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.rule == FineRule.FIXED_RANGE and obj.min_amount is not None and obj.max_amount is not None:
            return f"{obj.label}（{yuan(obj.min_amount)}–{yuan(obj.max_amount)} 元）"
        return f"{obj.label}（{obj.get_rule_display()}）"


class ReportForm(CaseActionForm):
    verb, serializer = "report", s.ReportSerializer
    report_text = forms.CharField(label="调查终结报告", max_length=20000, widget=_text(5))
    penalty_kinds = forms.MultipleChoiceField(label="拟处罚种类", choices=s.PENALTY_KINDS, required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text="都不选表示拟不予行政处罚。")
    tier = TierChoiceField(label="裁量阶次", queryset=BenchmarkTier.objects.none(), required=False,
                           empty_label="请选择", help_text="按违法行为发生日有效的裁量基准。")
    fine = forms.CharField(label="拟罚款（元）", required=False, widget=_money(), help_text="不填则取裁量幅度中值。")
    units = forms.CharField(label="违法数量", max_length=20, required=False, widget=_money())
    illegal_gains = forms.CharField(label="违法所得（元）", required=False, widget=_money())
    base_value = forms.CharField(label="计罚基数（元）", required=False, widget=_money())
    outside_reason = forms.CharField(label="超出裁量基准的理由", max_length=2000, required=False, widget=_text(2))
    mitigated = forms.BooleanField(label="减轻处罚", required=False)
    complex_case = forms.BooleanField(label="疑难复杂或重大案件", required=False)

    def setup(self):
        benchmark = benchmark_for(self.case.matter, self.case.act_date) \
            if self.case.matter_id and self.case.act_date else None
        self.fields["tier"].queryset = benchmark.tiers.all() if benchmark else BenchmarkTier.objects.none()

    def initial_for(self, case):
        return {"penalty_kinds": case.penalty_kinds or [PenaltyKind.FINE], "complex_case": case.complex_case}


class NotifyForm(CaseActionForm):
    verb, serializer = "notify", s.ServedOnSerializer
    served_on = forms.DateField(label="告知书送达日期", required=False, widget=_date(), help_text="不填为今日。")


class RecordStatementForm(CaseActionForm):
    verb, serializer = "record_statement", s.StatementSerializer
    statement = forms.CharField(label="陈述申辩意见", max_length=10000, widget=_text())
    reexamination = forms.CharField(label="复核意见", max_length=10000, widget=_text())
    revised_fine = forms.CharField(label="复核后拟罚款（元）", required=False, widget=_money(),
                                   help_text="不得因当事人陈述、申辩而加重处罚（《行政处罚法》第四十五条）。")


class WaiveStatementForm(CaseActionForm):
    verb, serializer = "waive_statement", s.WaiveSerializer
    note = forms.CharField(label="书面放弃的说明", max_length=500)
    evidence = UploadField(label="书面放弃声明（照片或扫描件）", description="当事人放弃陈述申辩和听证的书面声明")


class RequestHearingForm(CaseActionForm):
    verb, serializer = "request_hearing", s.HearingRequestSerializer
    requested_on = forms.DateField(label="申请听证日期", required=False, widget=_date(), help_text="不填为今日。")


class ScheduleHearingForm(CaseActionForm):
    verb, serializer = "schedule_hearing", s.HearingScheduleSerializer
    hearing_on = forms.DateField(label="听证日期", widget=_date(),
                                 help_text="应在举行听证的七日前通知当事人（《行政处罚法》第六十四条）。")
    place = forms.CharField(label="听证地点", max_length=200)
    chair = PersonChoiceField(label="听证主持人", queryset=User.objects.none(), empty_label="请选择",
                              help_text="由非本案调查人员担任。")
    notice_served_on = forms.DateField(label="听证通知送达日期", required=False, widget=_date(), help_text="不填为今日。")

    def setup(self):
        chairs = selectors.hearing_chairs(self.case, self.user)
        self.fields["chair"].queryset = User.objects.filter(pk__in=[p.pk for p in chairs]).order_by("real_name")


class HoldHearingForm(CaseActionForm):
    verb, serializer = "hold_hearing", s.HearingHoldSerializer
    report_text = forms.CharField(label="听证报告", max_length=20000, widget=_text(5))
    held_on = forms.DateField(label="听证举行日期", required=False, widget=_date(), help_text="不填为今日。")
    party_absent = forms.BooleanField(label="当事人无正当理由缺席（视为放弃听证）", required=False)


class LegalReviewForm(CaseActionForm):
    verb, serializer = "legal_review", s.LegalReviewSerializer
    passed = forms.ChoiceField(label="审核结论", choices=[("true", "通过"), ("false", "不通过，退回补充调查")],
                               initial="true")
    opinion = forms.CharField(label="审核意见", max_length=10000, widget=_text(4))


class TransferReviewForm(CaseActionForm):
    verb, serializer = "transfer_review", s.LegalReviewSerializer
    passed = forms.ChoiceField(label="审核结论", choices=[("true", "同意移送"), ("false", "不同意移送")], initial="true",
                               help_text="移送涉嫌犯罪案件须经法制审核（《上海市城市管理综合行政执法重大执法决定法制审核办法》第三条）。")
    opinion = forms.CharField(label="审核意见", max_length=10000, widget=_text(4))


class CollectiveDiscussionForm(CaseActionForm):
    verb, serializer = "collective_discussion", s.DiscussionSerializer
    held_on = forms.DateField(label="讨论日期", widget=_date())
    attendees = PeopleField(label="参加人员", queryset=User.objects.none(), help_text="至少三人。")
    minutes = forms.CharField(label="讨论记录", max_length=20000, widget=_text(4))
    conclusion = forms.CharField(label="讨论结论", max_length=5000, widget=_text(2))

    def setup(self):
        people = selectors.discussion_members(self.user)
        self.fields["attendees"].queryset = User.objects.filter(pk__in=[p.pk for p in people]).order_by("real_name")

    def initial_for(self, case):
        return {"held_on": selectors.today()}


class ExtendDeadlineForm(CaseActionForm):
    verb, serializer = "extend_deadline", s.ExtendDeadlineSerializer
    days = forms.IntegerField(label="延长天数", min_value=1, max_value=settings.CASE_MAX_EXTENSION_DAYS,
                              help_text=f"1–{settings.CASE_MAX_EXTENSION_DAYS} 天（《行政处罚法》第六十条）。")
    reason = forms.CharField(label="延长理由", max_length=300)


class DecideForm(CaseActionForm):
    verb, serializer = "decide", s.CaseDecideSerializer
    outcome = forms.ChoiceField(label="决定结果", choices=DecisionOutcome.choices)
    penalty_kinds = forms.MultipleChoiceField(label="处罚种类", choices=s.PENALTY_KINDS, required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text="不得重于事先告知的处罚（《行政处罚法》第四十四条、第四十五条）。")
    fine = forms.CharField(label="罚款（元）", required=False, widget=_money(), help_text="不填则取复核后的拟罚款。")
    no_penalty_ground = forms.ChoiceField(label="不予处罚理由", required=False,
                                          choices=_choices(NoPenaltyGround.choices, "（给予处罚时不填）"))
    exemption = forms.ModelChoiceField(label="免罚清单事项", queryset=ExemptionEntry.objects.none(), required=False,
                                       empty_label="不适用")

    def setup(self):
        self.fields["exemption"].queryset = exemptions_for(self.case.matter_id, selectors.today()) \
            if self.case.matter_id else ExemptionEntry.objects.none()

    def initial_for(self, case):
        return {"outcome": DecisionOutcome.PENALTY if case.penalty_kinds else DecisionOutcome.NO_PENALTY,
                "penalty_kinds": case.penalty_kinds, "fine": case.proposed_fine}

    def transform(self, data):
        if data.get("outcome") != DecisionOutcome.PENALTY:
            data.pop("penalty_kinds", None)
        return data


class ServeForm(CaseActionForm):
    verb, serializer = "serve", s.ServeSerializer
    method = forms.ChoiceField(label="送达方式", choices=_choices(ServiceMethod.choices))
    served_on = forms.DateField(label="送达日期", required=False, widget=_date(), help_text="不填为今日。")
    refused_to_sign = forms.BooleanField(label="当事人拒绝签收", required=False)
    consent = UploadField(label="电子送达确认书", target="consent", many=False, description="电子送达确认书",
                          help_text="电子送达须当事人同意并签订确认书（《行政处罚法》第六十一条）。")


class RecordPaymentForm(CaseActionForm):
    verb, serializer = "record_payment", s.PaymentSerializer
    amount = forms.CharField(label="缴款金额（元）", widget=_money())
    method = forms.ChoiceField(label="缴款方式", initial=PaymentMethod.BANK,
                               choices=[c for c in PaymentMethod.choices if c[0] != PaymentMethod.ENFORCED])
    paid_on = forms.DateField(label="缴款日期", required=False, widget=_date(), help_text="不填为今日。")
    receipt_number = forms.CharField(label="票据号", max_length=64, required=False)


class PaymentPlanForm(CaseActionForm):
    verb, serializer = "approve_payment_plan", s.PaymentPlanSerializer
    kind = forms.ChoiceField(label="类型", choices=_choices(PlanKind.choices))
    reason = forms.CharField(label="理由", max_length=300)
    due_on = forms.DateField(label="暂缓至", required=False, widget=_date(), help_text="暂缓缴纳时填写。")
    instalments = forms.CharField(label="分期计划", required=False, widget=_text(3, placeholder="2025-03-31 500\n2025-04-30 500"),
                                  help_text="分期缴纳时填写，每行一期：缴款期限 金额。")
    sub_labels = {"due_on": "缴款期限", "amount": "金额"}

    def transform(self, data):
        rows = []
        for line in data.pop("instalments", "").splitlines():
            parts = line.replace("，", " ").replace(",", " ").split()
            if parts:
                rows.append({"due_on": parts[0], "amount": parts[1] if len(parts) > 1 else ""})
        if rows:
            data["instalments"] = rows
        return data


class RemindForm(CaseActionForm):
    verb, serializer = "remind", s.ServedOnSerializer
    served_on = forms.DateField(label="催告书送达日期", required=False, widget=_date(), help_text="不填为今日。")


class ApplyToCourtForm(CaseActionForm):
    verb, serializer = "apply_to_court", s.CourtSerializer
    court = forms.CharField(label="人民法院", max_length=100)
    applied_on = forms.DateField(label="申请日期", required=False, widget=_date(), help_text="不填为今日。")


class ApplicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.court}（{obj.applied_on:%Y-%m-%d} 申请）"


class RecordEnforcementForm(CaseActionForm):
    verb, serializer = "record_enforcement", s.EnforcementSerializer
    application = ApplicationChoiceField(label="强制执行申请", queryset=None, empty_label=None)
    result = forms.ChoiceField(label="执行结果",
                               choices=_choices([c for c in CourtResult.choices if c[0] != CourtResult.PENDING]))
    result_on = forms.DateField(label="结果日期", required=False, widget=_date(), help_text="不填为今日。")

    @classmethod
    def available(cls, case):
        return selectors.pending_applications(case).exists()

    def setup(self):
        self.fields["application"].queryset = selectors.pending_applications(self.case)


class RecordAppealForm(CaseActionForm):
    verb, serializer = "record_appeal", s.AppealSerializer
    kind = forms.ChoiceField(label="类型", choices=_choices(AppealKind.choices))
    body = forms.CharField(label="复议机关/人民法院", max_length=100)
    started_on = forms.DateField(label="申请/起诉日期", required=False, widget=_date(), help_text="不填为今日。")


class AppealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_kind_display()}：{obj.body}（{obj.started_on:%Y-%m-%d}）"


class RecordAppealOutcomeForm(CaseActionForm):
    verb, serializer = "record_appeal_outcome", s.AppealOutcomeSerializer
    appeal = AppealChoiceField(label="复议/诉讼", queryset=None, empty_label=None)
    outcome = forms.ChoiceField(label="结果",
                                choices=_choices([c for c in AppealOutcome.choices if c[0] != AppealOutcome.PENDING]))
    ended_on = forms.DateField(label="结果日期", required=False, widget=_date(), help_text="不填为今日。")
    changed_fine = forms.CharField(label="变更后罚款（元）", required=False, widget=_money(), help_text="结果为“变更”时填写。")
    note = forms.CharField(label="说明", max_length=500, required=False)

    @classmethod
    def available(cls, case):
        return selectors.pending_appeals(case).exists()

    def setup(self):
        self.fields["appeal"].queryset = selectors.pending_appeals(self.case)


class CloseForm(CaseActionForm):
    verb, serializer = "close", s.CaseNoteSerializer
    note = forms.CharField(label="结案意见", max_length=500, required=False)


class ArchiveForm(CaseActionForm):
    verb, serializer, one_click = "archive", s.CaseNoteSerializer, True


class WithdrawForm(CaseActionForm):
    verb, serializer = "withdraw", s.CaseReasonSerializer
    reason = forms.CharField(label="撤案理由", max_length=2000, widget=_text(2))


class TransferForm(CaseActionForm):
    verb, serializer = "transfer", s.TransferSerializer
    kind = forms.ChoiceField(label="移送类型", choices=_choices(TransferKind.choices),
                             help_text="涉嫌犯罪的，经法制审核后移送公安机关或司法机关（《行政处罚法》第二十七条）。")
    to = forms.CharField(label="移送机关", max_length=200)
    reason = forms.CharField(label="移送理由", max_length=2000, widget=_text(2))



ACTION_FORMS: dict[str, type[CaseActionForm]] = {form.verb: form for form in (
    FileForm, AddPartyForm, AssignOfficersForm, AddRecordForm, AddMeasureForm, AddEmergencyMeasureForm,
    ApproveMeasureForm, ExtendMeasureForm, EndMeasureForm, ReportForm, NotifyForm, RecordStatementForm,
    WaiveStatementForm, RequestHearingForm, ScheduleHearingForm, HoldHearingForm, LegalReviewForm, TransferReviewForm,
    CollectiveDiscussionForm, ExtendDeadlineForm, DecideForm, ServeForm,
    RecordPaymentForm, PaymentPlanForm, RemindForm, ApplyToCourtForm, RecordEnforcementForm, RecordAppealForm,
    RecordAppealOutcomeForm, CloseForm, ArchiveForm, WithdrawForm, TransferForm,
)}


# --- new leads and on-the-spot decisions ----------------------------------------------------------

class _PlaceFields(forms.Form):
    squad = SquadChoiceField(label="责任中队", queryset=OrgUnit.objects.none(), required=False,
                             empty_label="按定位确定")
    address = forms.CharField(label="违法地点", max_length=255, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-position": "lon"}))
    lat = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-position": "lat"}))

    def place_setup(self, user):
        self.fields["squad"].queryset = selectors.squads_in_scope(user)
        own = selectors.squad_of(user)
        if own is not None and not self.is_bound:
            self.initial.setdefault("squad", own.pk)

    def evidence_squad(self):
        return self.cleaned_data.get("squad")

    def evidence_place(self):
        lon, lat = self.cleaned_data.get("lon"), self.cleaned_data.get("lat")
        return {"lon": lon, "lat": lat} if lon is not None and lat is not None else {}


LEAD_SOURCES = [c for c in SourceKind.choices if c[0] not in (SourceKind.WORK_ORDER, SourceKind.INSPECTION)]


class LeadForm(SerializerForm, _PlaceFields, PartyFields):
    """立案前线索录入: a lead waiting for the squad leader's filing decision."""

    serializer = s.LeadCreateSerializer
    source_kind = forms.ChoiceField(label="案件来源", choices=LEAD_SOURCES, initial=SourceKind.PATROL,
                                    help_text="工单诉转案、检查立案请求由原工单或检查记录提出。")
    facts = forms.CharField(label="违法事实", max_length=5000, widget=_text(4))
    matter = forms.ModelChoiceField(label="执法事项", queryset=Matter.objects.none(), required=False,
                                    empty_label="暂不确定（立案时确定）")
    act_date = forms.DateField(label="违法行为发生日期", required=False, widget=_date())
    act_ended_on = forms.DateField(label="违法行为终了日期", required=False, widget=_date(),
                                   help_text="连续或继续状态的违法行为填写（《行政处罚法》第三十六条）。")
    harm_to_safety = forms.BooleanField(label="涉及公民生命健康安全、金融安全且有危害后果", required=False)
    photos = UploadField(label="现场照片或材料", description="案件线索材料")
    field_map = {**_party_map("parties[0]."), "party_list": "party_name", "parties": "party_name",
                 "evidence": "photos"}
    fieldsets = [
        ("线索", ["source_kind", "facts", "matter", "act_date", "act_ended_on", "harm_to_safety"]),
        ("地点", ["squad", "address", "lon", "lat"]),
        ("当事人（已知时填写）", PartyFields.PARTY_FIELDS),
        ("材料", ["photos"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.place_setup(self.user)
        self.fields["matter"].queryset = Matter.objects.filter(is_active=True)
        self.fields["party_name"].required = False

    def transform(self, data):
        party = self.party_values(data)
        if any(party.get(key) for key in ("name", "id_number", "credit_code")):
            data["parties"] = [party]
        return data

    def run(self, data):
        return workflow.open_lead(by=self.user, **data)


class TierSelect(forms.Select):
    """Options carry their matter (data-matter) so the page narrows them to the chosen matter."""

    def __init__(self, *args, matter_of=None, **kwargs):
        self.matter_of = matter_of or {}
        super().__init__(*args, **kwargs)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        key = getattr(value, "value", value)
        if key in self.matter_of:
            option["attrs"]["data-matter"] = str(self.matter_of[key])
        return option


def simple_matters():
    return Matter.objects.filter(is_active=True, simple_procedure_allowed=True)


class SimpleForm(SerializerForm, _PlaceFields, PartyFields):
    """当场处罚 (简易程序, 《行政处罚法》第五十一条、第五十二条): for the officer's phone."""

    serializer = s.SimpleCreateSerializer
    matter = forms.ModelChoiceField(label="执法事项", queryset=Matter.objects.none(), empty_label="请选择",
                                    help_text="仅列出可适用简易程序的事项。")
    facts = forms.CharField(label="违法事实", max_length=5000, widget=_text(3))
    act_date = forms.DateField(label="违法行为发生日期", required=False, widget=_date(), help_text="不填为今日。")
    penalty_kind = forms.ChoiceField(label="处罚种类", choices=[(PenaltyKind.FINE, "罚款"), (PenaltyKind.WARNING, "警告")],
                                     initial=PenaltyKind.FINE, widget=forms.Select(attrs={"data-penalty-kind": "1"}))
    fine = forms.CharField(label="罚款金额（元）", required=False, widget=_money(**{"data-fine": "1"}))
    tier = TierChoiceField(label="裁量阶次", queryset=BenchmarkTier.objects.none(), required=False,
                           empty_label="请选择")
    co_officers = PeopleField(label="同行执法人员", queryset=User.objects.none(), required=False,
                              help_text="当场处罚须两名以上持有效执法证件的执法人员（含本人，《行政处罚法》第四十二条）。")
    refused_to_sign = forms.BooleanField(label="当事人拒绝签收（在决定书上注明）", required=False)
    collect_on_spot = forms.BooleanField(label="当场收缴罚款", required=False)
    photos = UploadField(label="现场照片", description="当场处罚现场照片")
    field_map = {**_party_map("party."), "party": "party_name", "officers": "co_officers", "evidence": "photos"}
    fieldsets = [
        ("当事人", PartyFields.PARTY_FIELDS),
        ("违法行为", ["matter", "facts", "act_date", "squad", "address", "lon", "lat"]),
        ("处罚", ["penalty_kind", "fine", "tier", "collect_on_spot", "refused_to_sign"]),
        ("执法人员与照片", ["co_officers", "photos"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.place_setup(self.user)
        self.fields["party_address"].required = True  # the decision handed over names it
        self.fields["matter"].queryset = simple_matters()
        own = selectors.squad_of(self.user)
        self.fields["co_officers"].queryset = selectors.squad_members(own).exclude(pk=self.user.pk)
        person, org = simple_procedure_limit(PartyKind.PERSON), simple_procedure_limit(PartyKind.ORGANISATION)
        self.fields["fine"].help_text = (f"对公民 {yuan(person)} 元以下、对法人或者其他组织 {yuan(org)} 元以下"
                                         "（《行政处罚法》第五十一条）。")
        self.fields["collect_on_spot"].help_text = (
            f"限 {settings.CASE_ON_THE_SPOT_COLLECTION_MAX} 元以下罚款（《行政处罚法》第六十八条）；否则当事人十五日内到银行缴纳。")
        self._tier_choices()

    def _tier_choices(self):
        today = selectors.today()
        matter_of = {}
        for matter in self.fields["matter"].queryset:
            benchmark = benchmark_for(matter, today)
            for tier in benchmark.tiers.all() if benchmark else ():
                matter_of[tier.pk] = matter.pk
        field = self.fields["tier"]
        field.queryset = BenchmarkTier.objects.filter(pk__in=matter_of).order_by("benchmark__matter__code", "order")
        field.widget = TierSelect(matter_of=matter_of, attrs={"data-tier": "1"})
        field.widget.choices = field.choices

    def transform(self, data):
        data["party"] = self.party_values(data)
        data["officers"] = [self.user.pk, *data.pop("co_officers", [])]
        if data.get("penalty_kind") == PenaltyKind.WARNING:
            data.pop("fine", None)
            data.pop("tier", None)
        return data

    def run(self, data):
        return simple.decide_on_the_spot(by=self.user, **data)


# --- the list's filters ---------------------------------------------------------------------------

DUE = [("overdue", "已超期"), ("soon", f"{settings.CASE_DUE_SOON_WORKING_DAYS} 个工作日内到期")]


class CaseListFilter(CaseFilter):
    """The screen's filters on top of the API's (squad, status, procedure, matter): source,
    overdue / due soon, entry-date range, and one search box for case number or party."""

    source = django_filters.ChoiceFilter(field_name="source_kind", choices=SourceKind.choices, label="案件来源")
    due = django_filters.ChoiceFilter(choices=DUE, method="filter_due", label="期限")
    created_from = django_filters.DateFilter(method="filter_created_from", label="录入日期起")
    created_to = django_filters.DateFilter(method="filter_created_to", label="录入日期止")
    q = django_filters.CharFilter(method="filter_q", label="案件编号或当事人")

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def filter_due(self, queryset, name, value):
        today = selectors.today()
        if value == "overdue":
            return queryset.filter(next_deadline__lt=today)
        return queryset.filter(next_deadline__gte=today, next_deadline__lte=selectors.soon_limit(today))

    @staticmethod
    def _start_of(day: dt.date):
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=self._start_of(value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=self._start_of(value + dt.timedelta(days=1)))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(selectors.party_search(self.user, value)) if value else queryset

