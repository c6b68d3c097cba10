"""Forms of the inspections screens. Forms only parse input; every change goes through the
services (chengguan.inspections.services.*), and a refusal from a service becomes a form
error with nothing saved (the services are atomic)."""

import base64
import binascii
import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chengguan.core.choices import OrgUnitKind
from chengguan.core.evidence import store_evidence
from chengguan.core.forms import ServiceForm, UnitChoiceField
from chengguan.core.models import OrgUnit, User

from . import selectors
from .choices import CheckResult, CreditGrade, InspectionOutcome, Tier
from .models import ObjectType
from .services import draws, records, registry, tiering

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CREDIT_GRADES = [g.value for g in CreditGrade]
TIERS = [str(t.value) for t in Tier]


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        unit = f"（{obj.org_unit.name}）" if obj.org_unit_id else ""
        return f"{obj.real_name}{unit}"


# --- regulated objects ------------------------------------------------------------------------

LICENCE_HELP = "每行一个证照：名称，编号，有效期至（YYYY-MM-DD，可省略）。例如：营业执照，91310112MA1XXXXX，2027-01-01"


def parse_licences(text: str) -> list[dict]:
    licences = []
    for n, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[,，]", line)]
        if len(parts) < 2 or not parts[0] or not parts[1] or len(parts) > 3:
            raise forms.ValidationError(f"第 {n} 行格式不对：应为“名称，编号，有效期至”。", code="invalid_licence")
        licence = {"name": parts[0], "number": parts[1]}
        if len(parts) == 3 and parts[2]:
            try:
                licence["valid_to"] = dt.date.fromisoformat(parts[2]).isoformat()
            except ValueError:
                raise forms.ValidationError(f"第 {n} 行的有效期“{parts[2]}”不是 YYYY-MM-DD 格式的日期。",
                                            code="invalid_licence") from None
        licences.append(licence)
    return licences


def format_licences(licences) -> str:
    return "\n".join("，".join(filter(None, [lic.get("name", ""), lic.get("number", ""), lic.get("valid_to", "")]))
                     for lic in licences or [])


class RegulatedObjectForm(ServiceForm):
    """Create or edit. Personal data is write-only here: the ID number is never sent back to
    the browser, and the contact phone only to roles that may see it."""

    object_type = forms.ModelChoiceField(label="对象类型", queryset=ObjectType.objects.none(), empty_label="请选择")
    name = forms.CharField(label="名称", max_length=200)
    credit_code = forms.CharField(label="统一社会信用代码", max_length=18, required=False,
                                  help_text="单位填写；个体或自然人可改填身份证件号码。")
    id_number = forms.CharField(label="身份证件号码", max_length=32, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    address = forms.CharField(label="地址", max_length=255)
    lon = forms.FloatField(label="经度", widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lat = forms.FloatField(label="纬度", widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    crs = forms.ChoiceField(label="坐标系", choices=[("wgs84", "WGS-84（GPS）"), ("gcj02", "GCJ-02（高德/腾讯）")],
                            initial="wgs84")
    contact_name = forms.CharField(label="联系人", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=32, required=False)
    risk_level = forms.IntegerField(label="风险等级分（0–5）", min_value=0, max_value=5, initial=0)
    credit_grade = forms.ChoiceField(label="信用等级", choices=CreditGrade.choices, initial=CreditGrade.B)
    licences = forms.CharField(label="证照", required=False, help_text=LICENCE_HELP,
                               widget=forms.Textarea(attrs={"rows": 3}))

    PLAIN = ("object_type", "name", "credit_code", "address", "contact_name", "risk_level", "credit_grade")

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user, self.instance = user, instance
        self.sees_contact = user.has_perm("inspections.view_regulatedobject_contact")
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.PLAIN}
            initial.update(object_type=instance.object_type_id, lon=instance.lon, lat=instance.lat,
                           licences=format_licences(instance.licences),
                           contact_phone=instance.contact_phone if self.sees_contact else "")
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["object_type"].queryset = selectors.object_types()
        if instance is not None:
            self.fields["id_number"].help_text = "出于隐私保护不显示原号码；留空表示不修改。"
            if not self.sees_contact:
                self.fields["contact_phone"].help_text = "您无权查看原号码；留空表示不修改。"

    def clean_licences(self):
        return parse_licences(self.cleaned_data["licences"])

    def save(self):
        data = self.cleaned_data
        if self.instance is None:
            return self.run_service(
                registry.create_object, by=self.user, object_type=data["object_type"], name=data["name"],
                address=data["address"], lon=data["lon"], lat=data["lat"], crs=data["crs"],
                credit_code=data["credit_code"], id_number=data["id_number"], contact_name=data["contact_name"],
                contact_phone=data["contact_phone"], licences=data["licences"], risk_level=data["risk_level"],
                credit_grade=data["credit_grade"])
        changes = {name: data[name] for name in self.PLAIN if name in self.changed_data}
        if "licences" in self.changed_data and data["licences"] != (self.instance.licences or []):
            changes["licences"] = data["licences"]
        for secret in ("id_number", "contact_phone"):
            if data[secret]:  # empty means "keep": the old value was never shown
                changes[secret] = data[secret]
        if {"lon", "lat"} & set(self.changed_data) or data["crs"] != "wgs84":
            changes.update(lon=data["lon"], lat=data["lat"], crs=data["crs"])
        if not changes:
            return self.instance
        return self.run_service(registry.update_object, self.instance, by=self.user, **changes)


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）",
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))


class ConflictForm(ServiceForm):
    """回避 declaration. Planners may declare for any officer in scope; everybody else only for
    themselves."""

    inspector = forms.ModelChoiceField(label="检查人员", queryset=User.objects.none(), empty_label="请选择")
    reason = forms.CharField(label="回避事由", max_length=200,
                             help_text="如：近亲属经营、曾在该单位任职、其他利害关系。")

    def __init__(self, *args, user, obj, **kwargs):
        self.user, self.obj = user, obj
        super().__init__(*args, **kwargs)
        if user.has_perm("inspections.view_inspectorconflict"):
            self.fields["inspector"].queryset = User.objects.restrict(user).filter(is_active=True)
        else:
            self.fields["inspector"].queryset = User.objects.filter(pk=user.pk)
            self.fields["inspector"].initial = user.pk
        self.fields["inspector"].label_from_instance = lambda u: u.real_name or u.username

    def save(self):
        return self.run_service(registry.declare_conflict, by=self.user, inspector=self.cleaned_data["inspector"],
                                regulated_object=self.obj, reason=self.cleaned_data["reason"])


class MergeForm(ServiceForm):
    duplicates = forms.ModelMultipleChoiceField(label="要并入本对象的重复记录", queryset=None,
                                                widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label="合并理由", max_length=200)

    def __init__(self, *args, user, obj, candidates, **kwargs):
        self.user, self.obj = user, obj
        super().__init__(*args, **kwargs)
        ids = [c.pk for c in candidates]
        self.fields["duplicates"].queryset = selectors.object_list(user, "change").filter(pk__in=ids)
        self.fields["duplicates"].label_from_instance = lambda o: f"#{o.pk} {o.name}（{o.address}）"

    def save(self):
        return self.run_service(registry.merge_objects, self.obj, list(self.cleaned_data["duplicates"]),
                                by=self.user, reason=self.cleaned_data["reason"])


class ManualTaskForm(ServiceForm):
    due_date = forms.DateField(label="应检日期", widget=DATE)
    inspectors = StaffChoiceField(label="检查人员", queryset=User.objects.none(), required=False,
                                  widget=forms.CheckboxSelectMultiple, help_text="可暂不指派，由中队人员领取。")
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, user, obj, **kwargs):
        self.user, self.obj = user, obj
        super().__init__(*args, **kwargs)
        self.fields["inspectors"].queryset = selectors.officers_in_scope(user)

    def save(self):
        data = self.cleaned_data
        return self.run_service(records.create_manual_task, by=self.user, regulated_object=self.obj,
                                due_date=data["due_date"], inspectors=list(data["inspectors"]), note=data["note"])


# --- tier rules -------------------------------------------------------------------------------

class TierRuleForm(ServiceForm):
    """The JSON columns of a rule as one number field per grade or tier."""

    violation_weight = forms.IntegerField(label="每起违法加分", min_value=0, max_value=100)
    violation_window_days = forms.IntegerField(label="违法记录回溯天数", min_value=1, max_value=3650)

    service_field_map = {"credit_points": "credit_A", "thresholds": "threshold_1", "frequency_days": "frequency_1"}

    def __init__(self, *args, user, object_type, rule=None, **kwargs):
        self.user, self.object_type = user, object_type
        initial = {}
        if rule is not None:
            initial = {"violation_weight": rule.violation_weight, "violation_window_days": rule.violation_window_days}
            initial.update({f"credit_{g}": rule.credit_points.get(g) for g in CREDIT_GRADES})
            initial.update({f"threshold_{t}": rule.thresholds.get(t) for t in TIERS[:-1]})
            initial.update({f"frequency_{t}": rule.frequency_days.get(t) for t in TIERS})
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for grade in CREDIT_GRADES:
            self.fields[f"credit_{grade}"] = forms.IntegerField(label=f"信用 {grade} 级加分", min_value=0, max_value=100)
        for tier in TIERS[:-1]:
            self.fields[f"threshold_{tier}"] = forms.IntegerField(
                label=f"{Tier(int(tier)).label} 得分阈值", min_value=0, max_value=1000,
                help_text="得分达到此值即定为该级（低于三级阈值为四级）。")
        for tier in TIERS:
            self.fields[f"frequency_{tier}"] = forms.IntegerField(
                label=f"{Tier(int(tier)).label} 检查周期（天）", min_value=1, max_value=3650)

    def rule_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "violation_weight": data["violation_weight"],
            "violation_window_days": data["violation_window_days"],
            "credit_points": {g: data[f"credit_{g}"] for g in CREDIT_GRADES},
            "thresholds": {t: data[f"threshold_{t}"] for t in TIERS[:-1]},
            "frequency_days": {t: data[f"frequency_{t}"] for t in TIERS},
        }

    def save(self):
        return self.run_service(tiering.set_tier_rule, self.object_type, by=self.user, **self.rule_fields())


# --- schedule ---------------------------------------------------------------------------------

class ScheduleForm(ServiceForm):
    until = forms.DateField(label="生成截至", widget=DATE, help_text="为应检日期在此日前且无待检任务的对象生成检查任务。")
    squad = UnitChoiceField(label="中队", queryset=OrgUnit.objects.none(), required=False, empty_label="我的全部中队")

    def __init__(self, *args, user, **kwargs):
        self.user = user
        kwargs.setdefault("initial", {"until": timezone.localdate() + dt.timedelta(days=30)})
        super().__init__(*args, **kwargs)
        self.fields["squad"].queryset = OrgUnit.objects.restrict(user).filter(kind=OrgUnitKind.SQUAD)

    def save(self):
        return self.run_service(tiering.generate_schedule, by=self.user, until=self.cleaned_data["until"],
                                squad=self.cleaned_data["squad"])


# --- draw plans -------------------------------------------------------------------------------

class PercentField(forms.DecimalField):
    """A ratio typed as a percentage (5 → 0.05)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=100, decimal_places=2, max_digits=5, **kwargs)


class DrawPlanForm(ServiceForm):
    name = forms.CharField(label="计划名称", max_length=120)
    org_unit = UnitChoiceField(label="组织单位", queryset=OrgUnit.objects.none())
    period_start = forms.DateField(label="检查期间起", widget=DATE)
    period_end = forms.DateField(label="检查期间止", widget=DATE)
    object_types = forms.ModelMultipleChoiceField(label="抽查对象类型", queryset=ObjectType.objects.none(),
                                                  widget=forms.CheckboxSelectMultiple)
    squads = forms.ModelMultipleChoiceField(label="对象范围：中队", queryset=OrgUnit.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple, help_text="不选表示组织单位辖区内全部。")
    tiers = forms.TypedMultipleChoiceField(label="对象范围：监管等级", choices=Tier.choices, coerce=int, required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text="不选表示全部等级。")
    inspectors_per_object = forms.IntegerField(label="每户检查人员数", min_value=2, max_value=10, initial=2)
    exclude_own_squad = forms.BooleanField(label="本中队人员回避本辖区对象", required=False)
    inspector_units = forms.ModelMultipleChoiceField(
        label="检查人员来源单位", queryset=OrgUnit.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text="不选表示组织单位内全部持有效执法证的人员。")

    RATIO_DEFAULTS = {"A": 2, "B": 5, "C": 10, "D": 20}
    service_field_map = {f"ratios.{g}": f"ratio_{g}" for g in CREDIT_GRADES}

    def __init__(self, *args, user, **kwargs):
        self.user = user
        initial = {f"ratio_{g}": v for g, v in self.RATIO_DEFAULTS.items()}
        if user.org_unit_id:
            initial["org_unit"] = user.org_unit_id
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for grade in CREDIT_GRADES:
            self.fields[f"ratio_{grade}"] = PercentField(label=f"信用 {grade} 级抽取比例（%）", required=False)
        self.order_fields(["name", "org_unit", "period_start", "period_end", "object_types",
                           *[f"ratio_{g}" for g in CREDIT_GRADES]])
        units = selectors.plan_units(user)
        self.fields["org_unit"].queryset = units
        self.fields["squads"].queryset = units.filter(kind=OrgUnitKind.SQUAD)
        self.fields["inspector_units"].queryset = units
        self.fields["object_types"].queryset = selectors.object_types()

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "检查期间止不能早于检查期间起。")
        if not self.errors and all(data.get(f"ratio_{g}") is None for g in CREDIT_GRADES):
            self.add_error("ratio_A", "请至少为一个信用等级填写抽取比例。")
        return data

    def save(self):
        data = self.cleaned_data
        filters = {}
        if data["squads"]:
            filters["squads"] = [u.pk for u in data["squads"]]
        if data["tiers"]:
            filters["tiers"] = data["tiers"]
        ratios = {g: float(data[f"ratio_{g}"] / Decimal(100)) for g in CREDIT_GRADES
                  if data[f"ratio_{g}"] is not None}
        if len(ratios) < len(CREDIT_GRADES):  # a class left blank is not part of the population
            filters["credit_grades"] = sorted(ratios)
        return self.run_service(
            draws.create_plan, by=self.user, name=data["name"], org_unit=data["org_unit"],
            period_start=data["period_start"], period_end=data["period_end"],
            object_types=list(data["object_types"]), ratios=ratios, population_filters=filters,
            inspectors_per_object=data["inspectors_per_object"], exclude_own_squad=data["exclude_own_squad"],
            inspector_units=list(data["inspector_units"]))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


# --- the inspection form ----------------------------------------------------------------------

SIGNATURE_MAX_BYTES = 2 * 1024 * 1024


class InspectionForm(ServiceForm):
    """The officer's form on the spot. Checklist answers are fields `item_<id>` (pass/fail/na)
    with notes `note_<id>`; the position comes from the phone (hidden lon/lat); the party's
    signature arrives as a PNG data URL drawn on a canvas."""

    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    findings = forms.CharField(label="检查情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    co_inspectors = StaffChoiceField(label="共同检查人员", queryset=User.objects.none(),
                                     widget=forms.CheckboxSelectMultiple,
                                     help_text="至少一名持有效执法证的同事与您共同检查。")
    outcome = forms.ChoiceField(label="检查结果", choices=InspectionOutcome.choices, widget=forms.RadioSelect)
    correction_deadline = forms.DateField(label="整改期限", required=False, widget=DATE)
    case_facts = forms.CharField(label="涉嫌违法事实", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    party_refused_to_sign = forms.BooleanField(label="当事人拒绝签名", required=False)

    service_field_map = {"inspectors": "co_inspectors", "officers": "co_inspectors"}

    def __init__(self, *args, user, task, **kwargs):
        self.user, self.task = user, task
        super().__init__(*args, **kwargs)
        self.items = selectors.checklist_for(task.regulated_object.object_type_id)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.text, choices=CheckResult.choices, widget=forms.RadioSelect,
                error_messages={"required": f"请选择“{item.text}”的检查结果。"})
            self.fields[f"note_{item.pk}"] = forms.CharField(label="备注", required=False, max_length=200)
        self.fields["co_inspectors"].queryset = selectors.officers_in_scope(user, also=task.inspectors).exclude(
            pk=user.pk)
        if not self.is_bound:
            self.initial["co_inspectors"] = [u.pk for u in task.inspectors.all() if u.pk != user.pk]

    def checklist_rows(self):
        """(item, result field, note field) for the template."""
        return [(item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]

    def clean(self):
        data = super().clean()
        if data.get("lon") is None or data.get("lat") is None:
            self.add_error("lon", "未获取到您的当前位置。请在手机上允许浏览器使用定位，待显示“已定位”后再提交。")
        signature = data.get("signature")
        if signature:
            data["signature_png"] = self._decode_signature(signature)
        if not signature and not data.get("party_refused_to_sign"):
            self.add_error("signature", "请当事人在签名框内签名；当事人拒绝签名的，请勾选“当事人拒绝签名”。")
        return data

    def _decode_signature(self, value: str) -> bytes | None:
        prefix = "data:image/png;base64,"
        if not value.startswith(prefix) or len(value) > SIGNATURE_MAX_BYTES * 4 // 3 + len(prefix) + 4:
            self.add_error("signature", "签名数据无效，请清除后重新签名。")
            return None
        try:
            return base64.b64decode(value[len(prefix):], validate=True)
        except (binascii.Error, ValueError):
            self.add_error("signature", "签名数据无效，请清除后重新签名。")
            return None

    def checklist(self) -> list[dict]:
        data = self.cleaned_data
        return [{"item": item.pk, "text": item.text, "result": data[f"item_{item.pk}"],
                 "note": data.get(f"note_{item.pk}", "")} for item in self.items]

    def save(self, photos=()):
        """Store the photos and the signature and submit, in one transaction: when the service
        refuses, no evidence row and no record remain (the refusal becomes a form error)."""
        return self.run_service(self._submit, list(photos))

    def _submit(self, photos):
        data = self.cleaned_data
        with transaction.atomic():
            # the task's squad keeps the files with the record; an inspector drawn from another
            # squad files them under their own (store_evidence accepts only squads in scope)
            in_scope = OrgUnit.objects.restrict(self.user).filter(pk=self.task.squad_id).exists()
            squad = self.task.squad if in_scope else None
            place = {"lon": data["lon"], "lat": data["lat"], "squad": squad}
            stored = [store_evidence(photo, by=self.user, description="现场检查照片", **place) for photo in photos]
            signature = None
            if data.get("signature_png") and not data["party_refused_to_sign"]:
                signature = store_evidence(ContentFile(data["signature_png"], name="当事人签名.png"), by=self.user,
                                           description="当事人签名", **place)
            return records.submit_inspection(
                self.task, by=self.user, inspectors=[self.user, *data["co_inspectors"]], lon=data["lon"],
                lat=data["lat"], checklist=self.checklist(), findings=data["findings"], photos=stored,
                signature=signature, party_refused_to_sign=data["party_refused_to_sign"],
                outcome=data["outcome"], correction_deadline=data["correction_deadline"],
                case_facts=data["case_facts"])
