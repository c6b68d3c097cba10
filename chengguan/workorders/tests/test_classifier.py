import csv
import io
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from chengguan.core.errors import ValidationFailed
from chengguan.workorders import classifier as clf
from chengguan.workorders.classifier import (
    TextClassifier,
    cross_validate,
    join_fields,
    normalize,
    subject_of,
)

DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "tipdm2020c"

PLACES = ["浦东新区张江路", "闵行区七宝镇", "徐汇区漕溪北路", "黄浦区南京东路", "静安区大宁路",
          "长宁区天山路", "普陀区真如镇", "杨浦区五角场", "宝山区大场镇", "嘉定区安亭镇"]
TEMPLATES = {
    "占道经营": ["{p}有摊贩占道经营卖水果", "{p}路边流动摊贩摆摊占用人行道", "{p}早点摊占道经营影响通行",
                 "{p}夜市小商贩占道摆摊无人管理"],
    "噪声扰民": ["{p}工地夜间施工噪音很大", "{p}广场舞音响噪声扰民到深夜", "{p}酒吧音乐声音太吵影响休息",
                 "{p}装修电钻噪音扰民"],
    "暴露垃圾": ["{p}垃圾堆放多日无人清运发臭", "{p}小区门口暴露垃圾苍蝇很多", "{p}河边有人倾倒生活垃圾",
                 "{p}垃圾桶满溢垃圾散落一地"],
    "违法建筑": ["{p}楼顶私自搭建违章建筑", "{p}一楼住户违法搭建阳光房", "{p}小区绿地上私搭乱建简易房",
                 "{p}违建彩钢板房占用公共通道"],
}


def corpus(places):
    texts, labels = [], []
    for label, templates in TEMPLATES.items():
        for template in templates:
            for place in places:
                texts.append(template.format(p=place))
                labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def trained():
    return TextClassifier().fit(*corpus(PLACES[:8]))


def test_normalize_and_join():
    assert normalize("　ＡＢＣ１２３\n\t路口 ") == "ABC123 路口"
    assert join_fields(["标题", "正文"]) == "标题 标题 正文"
    assert join_fields(["只有一段"]) == "只有一段"
    # The classifier finds the subject again in the doubled opening, spaces inside it included.
    assert subject_of(normalize(join_fields(["夜市 摊贩", "每天晚上占道\n经营"]))) == "夜市 摊贩"
    assert subject_of(normalize(join_fields(["", "没有标题的正文"]))) == ""
    assert subject_of("路边 摊贩很多") == ""


def test_fit_predict_confidence_and_round_trip(trained):
    texts, labels = corpus(PLACES[8:])  # places never seen in training
    predicted = trained.predict(texts)
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert accuracy >= 0.9
    assert trained.predict(["静安区夜里工地施工噪音吵得睡不着"]) == ["噪声扰民"]
    pairs = trained.predict_with_confidence(texts)
    assert all(0.0 <= conf <= 1.0 for _, conf in pairs)
    assert [label for label, _ in pairs] == predicted
    assert trained.predict_proba(texts).sum(axis=1) == pytest.approx([1.0] * len(texts))

    data = trained.to_bytes()
    header = TextClassifier.read_header(data)
    assert header["labels"] == sorted(TEMPLATES)
    assert header["training_size"] == 4 * 4 * 8
    assert header["format_version"] == clf.FORMAT_VERSION
    loaded = TextClassifier.from_bytes(data)
    assert loaded.predict(texts) == predicted
    assert loaded.predict_with_confidence(texts) == pairs


@pytest.mark.parametrize("classes", [2, 4])
def test_probabilities_do_not_depend_on_the_batch(classes):
    texts, labels = corpus(PLACES[:6])
    keep = [i for i, label in enumerate(labels) if label in sorted(TEMPLATES)[:classes]]
    model = TextClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
    probe = corpus(PLACES[6:])[0] + ["与任何分类都无关的一句话", ""]
    batch = model.predict_proba(probe)
    assert batch.shape == (len(probe), classes)
    assert batch.sum(axis=1) == pytest.approx([1.0] * len(probe))
    one_by_one = np.vstack([model.predict_proba([text]) for text in probe])
    assert batch == pytest.approx(one_by_one, abs=1e-12)
    # A text that says nothing about any class gets a low confidence: it goes to a person.
    assert max(batch[-1]) < 0.9 and max(batch[-1]) == pytest.approx(1 / classes, abs=0.2)


def test_label_descriptions_teach_words_no_training_text_uses(trained):
    texts, labels = corpus(PLACES[:8])
    descriptions = {"噪声扰民": ["噪声 扰民 鸣笛 喇叭 高音喇叭"], "暴露垃圾": ["垃圾 渣土 清运"],
                    "不在训练集的分类": ["这个分类没有训练文本"]}
    probe = "工地渣土没有清运"  # "渣土" and "清运" are in no training text
    described = TextClassifier().fit(texts, labels, label_descriptions=descriptions)
    assert described.predict([probe]) == ["暴露垃圾"]
    assert trained.predict([probe]) != ["暴露垃圾"]  # the same texts without the descriptions
    # Descriptions add no class of their own, and the texts still count as the training size.
    assert described.labels == sorted(TEMPLATES)
    assert described.header["description_count"] == 2
    assert described.header["training_size"] == len(texts)


def _with_header(data: bytes, **changes) -> bytes:
    (size,) = struct.unpack(">I", data[4:8])
    header = json.loads(data[8:8 + size]) | changes
    raw = json.dumps(header).encode()
    return data[:4] + struct.pack(">I", len(raw)) + raw + data[8 + size:]


def test_incompatible_model_refused(trained):
    data = trained.to_bytes()
    with pytest.raises(ValidationFailed, match="格式版本 99 与本系统") as exc:
        TextClassifier.from_bytes(_with_header(data, format_version=99))
    assert exc.value.code == "classifier_incompatible"
    with pytest.raises(ValidationFailed, match="scikit-learn 0.24.2 训练") as exc:
        TextClassifier.from_bytes(_with_header(data, sklearn_version="0.24.2"))
    assert exc.value.code == "classifier_incompatible"
    with pytest.raises(ValidationFailed, match="不是本系统的文本分类模型文件") as exc:
        TextClassifier.from_bytes(b"PK\x03\x04 not a model")
    assert exc.value.code == "classifier_format"


def test_bad_training_sets_refused():
    with pytest.raises(ValidationFailed, match="至少需要两个分类") as exc:
        TextClassifier().fit(["占道经营", "摆摊"], ["占道经营", "占道经营"])
    assert exc.value.code == "classifier_too_few_classes"
    with pytest.raises(ValidationFailed, match="空的分类标签"):
        TextClassifier().fit(["占道经营", "噪音"], ["占道经营", " "])
    with pytest.raises(ValidationFailed, match="尚未训练") as exc:
        TextClassifier().predict(["噪音"])
    assert exc.value.code == "classifier_not_trained"


def write_csv(path: Path, rows, header=("标题", "内容", "分类")):
    # BOM, embedded line breaks and tabs: what exports of the hotline platforms look like.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def rows_for(places):
    texts, labels = corpus(places)
    return [(text[:6], f"{text}\n请尽快处理。\t谢谢", label) for text, label in zip(texts, labels, strict=True)]


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("evaluate_classifier", *args, stdout=out)
    return out.getvalue()


def test_command_train_test_and_cv(tmp_path):
    write_csv(tmp_path / "a.csv", rows_for(PLACES[:8]))
    write_csv(tmp_path / "b.csv", rows_for(PLACES[8:]))
    output = run_command("--train", str(tmp_path / "a.csv"), "--test", str(tmp_path / "b.csv"),
                         "--text-cols", "标题,内容", "--label-col", "分类")
    lines = output.splitlines()
    assert re.fullmatch(r"accuracy [01]\.\d{3}", lines[0]) and float(lines[0].split()[1]) >= 0.9
    assert re.fullmatch(r"macro-F1 [01]\.\d{3}", lines[1])
    assert any(line.startswith("噪声扰民\t") for line in lines[2:])

    output = run_command("--train", str(tmp_path / "a.csv"), "--cv", "4", "--text-cols", "标题,内容",
                         "--label-col", "分类")
    first, second = output.splitlines()[:2]
    assert first.split()[0] == "accuracy" and float(first.split()[1]) >= 0.8
    assert second.split()[0] == "macro-F1"


def test_command_with_descriptions(tmp_path):
    write_csv(tmp_path / "a.csv", rows_for(PLACES[:8]))
    write_csv(tmp_path / "b.csv", [("", "有车辆鸣笛按喇叭", "噪声扰民")])
    write_csv(tmp_path / "d.csv", [("噪声扰民", "噪声 扰民 鸣笛 喇叭"), ("噪声扰民", "高音喇叭"),
                                   ("暴露垃圾", "垃圾 渣土 清运")], header=("label", "text"))
    base = ["--train", str(tmp_path / "a.csv"), "--test", str(tmp_path / "b.csv"), "--text-cols", "标题,内容",
            "--label-col", "分类"]
    assert run_command(*base, "--descriptions", str(tmp_path / "d.csv")).splitlines()[0] == "accuracy 1.000"
    assert run_command(*base).splitlines()[0] == "accuracy 0.000"
    output = run_command("--train", str(tmp_path / "a.csv"), "--cv", "4", "--text-cols", "标题,内容",
                         "--label-col", "分类", "--descriptions", str(tmp_path / "d.csv"))
    assert float(output.splitlines()[0].split()[1]) >= 0.8
    write_csv(tmp_path / "bad.csv", [("噪声扰民", "鸣笛")], header=("分类", "说明"))
    with pytest.raises(CommandError, match="缺少列：label、text"):
        run_command(*base, "--descriptions", str(tmp_path / "bad.csv"))


def test_command_refuses_bad_input(tmp_path):
    good = tmp_path / "good.csv"
    write_csv(good, rows_for(PLACES[:3]))
    base = ["--text-cols", "标题,内容", "--label-col", "分类"]
    with pytest.raises(CommandError, match="文件不存在"):
        run_command("--train", str(tmp_path / "nope.csv"), "--test", str(good), *base)
    with pytest.raises(CommandError, match="缺少列：正文"):
        run_command("--train", str(good), "--test", str(good), "--text-cols", "标题,正文", "--label-col", "分类")
    empty_label = tmp_path / "empty_label.csv"
    write_csv(empty_label, [*rows_for(PLACES[:3]), ("标题", "内容", "")])
    with pytest.raises(CommandError, match="“分类”列有空值"):
        run_command("--train", str(empty_label), "--test", str(good), *base)
    one_class = tmp_path / "one_class.csv"
    write_csv(one_class, [row for row in rows_for(PLACES[:3]) if row[2] == "占道经营"])
    with pytest.raises(CommandError, match="至少需要两个分类"):
        run_command("--train", str(one_class), "--test", str(good), *base)
    with pytest.raises(CommandError, match="请指定 --test 或 --cv"):
        run_command("--train", str(good), *base)


def taxonomy_descriptions() -> dict[str, list[str]]:
    """The board's own category tree as descriptions: per first-level class, its name and one
    "二级分类 三级分类" line per leaf ("其他" leaves out)."""
    descriptions: dict[str, set[str]] = {}
    with (DATASET / "fj1_label_taxonomy.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            names = [n for n in (row["二级分类"], row["三级分类"]) if n and n != "其他"]
            descriptions.setdefault(row["一级分类"], {row["一级分类"]}).add(" ".join(names))
    return {label: sorted(filter(None, lines)) for label, lines in descriptions.items()}


def test_cross_validation_on_real_messages():
    path = DATASET / "fj2_messages_sample495.csv"
    if not path.exists():
        pytest.skip("需要 ../shared/datasets/tipdm2020c 数据集")
    texts, labels = clf.read_labelled_csv(path, ["留言主题", "留言详情"], "一级分类")
    assert len(texts) == 495
    # Measured (5 folds × 3 repeats, see the module docstring): 0.87 from the messages alone,
    # 0.88 with the board's category tree as descriptions; the target is 0.85.
    result = cross_validate(texts, labels, folds=5, repeats=1, seed=0)
    assert result["accuracy"][0] >= 0.85
    assert result["macro_f1"][0] >= 0.85
    result = cross_validate(texts, labels, folds=5, repeats=1, seed=0,
                            label_descriptions=taxonomy_descriptions())
    assert result["accuracy"][0] >= 0.86
    assert result["macro_f1"][0] >= 0.86
