"""Work-order text classification (`chengguan.workorders.classifier`) on the 495 labelled citizen
messages of ../shared/datasets/tipdm2020c: 5-fold stratified CV accuracy and macro-F1 against a
bag-of-characters multinomial Naive Bayes baseline, the same with the board's category tree
(fj1_label_taxonomy.csv) as label descriptions, training time on all 495, and prediction
throughput in one batch and one text at a time. Skipped when the dataset is absent."""

import csv
import os
import sys

from .common import ROOT, Timer, rate

DATASET = ROOT.parent / "shared" / "datasets" / "tipdm2020c" / "fj2_messages_sample495.csv"
SINGLE = 200


def taxonomy_descriptions() -> dict[str, list[str]]:
    """Per first-level class: its name and one "二级分类 三级分类" line per leaf ("其他" left out)."""
    descriptions: dict[str, set[str]] = {}
    with (DATASET.parent / "fj1_label_taxonomy.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            names = [n for n in (row["二级分类"], row["三级分类"]) if n and n != "其他"]
            descriptions.setdefault(row["一级分类"], {row["一级分类"]}).add(" ".join(names))
    return {label: sorted(filter(None, lines)) for label, lines in descriptions.items()}


def baseline_accuracy(texts, labels) -> float:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(CountVectorizer(analyzer="char"), MultinomialNB())
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return float(cross_val_score(model, texts, labels, cv=folds).mean())


def main() -> None:
    if not DATASET.exists():
        print(f"classifier: skipped, 需要 ../shared/datasets/tipdm2020c 数据集 ({DATASET} absent)")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from chengguan.workorders.classifier import TextClassifier, cross_validate, read_labelled_csv

    texts, labels = read_labelled_csv(DATASET, ["留言主题", "留言详情"], "一级分类")
    cv = cross_validate(texts, labels, folds=5, repeats=1, seed=0)
    described = cross_validate(texts, labels, folds=5, repeats=1, seed=0, label_descriptions=taxonomy_descriptions())
    with Timer() as train:
        model = TextClassifier().fit(texts, labels)
    batch = texts * 4
    model.predict_with_confidence(batch[:10])  # warm-up
    with Timer() as batch_time:
        model.predict_with_confidence(batch)
    with Timer() as single_time:
        for text in texts[:SINGLE]:
            model.predict_with_confidence([text])
    accuracy, f1 = cv["accuracy"][0], cv["macro_f1"][0]
    base = baseline_accuracy(texts, labels)
    print(f"classifier: 5-fold CV accuracy {accuracy:.3f}, macro-F1 {f1:.3f}; "
          f"predict {rate(len(batch), batch_time.seconds)} texts/s batch, "
          f"{rate(SINGLE, single_time.seconds)} texts/s one at a time; train {train.seconds:.2f} s")
    print(f"  with the category tree as label descriptions: CV accuracy {described['accuracy'][0]:.3f}, "
          f"macro-F1 {described['macro_f1'][0]:.3f}")
    print(f"  baseline (bag-of-characters Naive Bayes) CV accuracy {base:.3f}: ratio {accuracy / base:.2f}×; "
          f"model {len(model.to_bytes()) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
