"""Automatic classification of order texts into the category tree.

The newest active `ClassifierModel` (trained by `train`, stored in the evidence store) is
loaded once per process and reloaded when a newer version appears. Training data are the
orders a person classified (`classified_by=person`) plus the category names and keywords,
which let a new installation classify before anyone has sorted an order."""

from __future__ import annotations

import threading
import time

from django.db import transaction
from django.db.models import Max

from chengguan.core.errors import ValidationFailed
from chengguan.core.evidence import open_verified, store_generated

from ..choices import ClassifiedBy
from ..classifier import TextClassifier, cross_validate, join_fields
from ..models import Category, ClassifierModel, WorkOrder

CHECK_SECONDS = 30  # how often a process re-reads the category tree
VERSION_SECONDS = 1  # how often it looks for a newer model
_lock = threading.Lock()
_state = {"version": None, "classifier": None, "checked": float("-inf"), "version_checked": float("-inf"),
          "categories": {}}


def order_text(title: str, text: str) -> str:
    return join_fields([title, text]) if title else text


def _load(version: int | None):
    if version is None:
        return None
    record = ClassifierModel.objects.select_related("file").get(version=version)
    with open_verified(record.file, by=None) as handle:
        return TextClassifier.from_bytes(handle.read())


def current() -> tuple[TextClassifier | None, dict[str, Category]]:
    """The active classifier (None before the first training) and the active categories by
    code. Another process's new model takes effect within VERSION_SECONDS; the category tree
    is re-read within CHECK_SECONDS (at once in this process, through `invalidate`)."""
    now = time.monotonic()
    if now - _state["version_checked"] >= VERSION_SECONDS:
        # The file's hash, not only the version number: a restored or rolled-back database
        # may hold a different model under a version number this process has seen.
        active = (ClassifierModel.objects.filter(is_active=True).order_by("-version")
                  .values_list("version", "file__sha256").first())
        with _lock:
            if active != _state["version"]:
                _state["classifier"] = _load(active[0]) if active else None
                _state["version"] = active
            _state["version_checked"] = now
    if now - _state["checked"] >= CHECK_SECONDS:
        with _lock:
            _state["categories"] = {c.code: c for c in Category.objects.filter(is_active=True)}
            _state["checked"] = now
    return _state["classifier"], _state["categories"]


def invalidate(**_signal_kwargs) -> None:
    """Re-read the model version and the category tree on the next call."""
    _state["checked"] = _state["version_checked"] = float("-inf")


def predict(texts: list[str]) -> list[tuple[Category | None, float | None]]:
    """(category, confidence) per text; (None, None) while no model is trained."""
    classifier, categories = current()  # cached: no query within VERSION_SECONDS
    if classifier is None or not texts:
        return [(None, None)] * len(texts)
    return [(categories.get(code), confidence) for code, confidence in classifier.predict_with_confidence(texts)]


def training_set() -> tuple[list[str], list[str]]:
    """Texts and category codes: every order a person classified into an active leaf, plus
    one document per leaf made of its name, its parent's name and its keywords."""
    leaves = {c.pk: c for c in Category.objects.filter(is_active=True, children__isnull=True)
              .select_related("parent")}
    texts, labels = [], []
    for title, text, category_id in (WorkOrder.objects.filter(classified_by=ClassifiedBy.PERSON,
                                                              category_id__in=list(leaves))
                                     .values_list("title", "text", "category_id").iterator(chunk_size=5000)):
        texts.append(order_text(title, text))
        labels.append(leaves[category_id].code)
    for category in leaves.values():
        description = " ".join(filter(None, [category.parent.name if category.parent else "", category.name,
                                             category.keywords]))
        # Twice, so that a leaf no person has used yet still has the two documents a class needs.
        texts += [description, description]
        labels += [category.code, category.code]
    return texts, labels


def train(*, by=None, evaluate: bool = True) -> ClassifierModel:
    """Train on `training_set()`, store the model as a new version and make it the active one."""
    texts, labels = training_set()
    if len(set(labels)) < 2:
        raise ValidationFailed("至少需要两个启用的分类才能训练。", code="classifier_too_few_classes")
    classifier = TextClassifier().fit(texts, labels)
    accuracy = None
    counts = {label: labels.count(label) for label in set(labels)}
    if evaluate and min(counts.values()) >= 5 and len(texts) >= 50:
        accuracy = cross_validate(texts, labels, folds=5)["accuracy"][0]
    with transaction.atomic():
        version = (ClassifierModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
        file = store_generated(classifier.to_bytes(), by=by, name=f"workorder-classifier-v{version}.bin",
                               content_type="application/octet-stream", description=f"工单分类模型 v{version}")
        record = ClassifierModel(version=version, file=file, training_size=len(texts), labels=classifier.labels,
                                 cv_accuracy=accuracy, trained_by=by)
        record.save(audit_action="workorder.classifier.train", actor=by)
    transaction.on_commit(invalidate)
    invalidate()
    return record
