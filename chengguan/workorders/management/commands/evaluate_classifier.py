from django.core.management.base import BaseCommand, CommandError

from chengguan.core.errors import ValidationFailed

from ...classifier import cross_validate, evaluate, read_descriptions_csv, read_labelled_csv


class Command(BaseCommand):
    help = (
        "在任意带标签的 CSV 上训练并评估文本分类引擎：--train 训练集，--test 测试集（只用训练集训练），"
        "输出 accuracy 与 macro-F1；或用 --cv K 在训练集上做分层 K 折交叉验证。"
        "--descriptions 可附加分类说明（分类名称、子类名称、关键词），作为每个分类的补充训练文本。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="训练集 CSV（UTF-8）")
        parser.add_argument("--test", help="测试集 CSV（UTF-8）")
        parser.add_argument("--text-cols", required=True, help="文本列，逗号分隔，第一列视为标题")
        parser.add_argument("--label-col", required=True, help="分类标签列")
        parser.add_argument("--cv", type=int, help="在训练集上做分层 K 折交叉验证的折数")
        parser.add_argument("--repeats", type=int, default=1, help="交叉验证重复次数（默认 1）")
        parser.add_argument("--seed", type=int, default=0, help="交叉验证随机种子（默认 0）")
        parser.add_argument("--descriptions", help="分类说明 CSV（UTF-8，列 label、text，每个分类可有多行）")

    def handle(self, *args, train, test, text_cols, label_col, cv, repeats, seed, descriptions, **options):
        if bool(test) == bool(cv):
            raise CommandError("请指定 --test 或 --cv 其中之一。")
        columns = [c.strip() for c in text_cols.split(",") if c.strip()]
        if not columns:
            raise CommandError("--text-cols 至少需要一列。")
        try:
            label_descriptions = read_descriptions_csv(descriptions) if descriptions else None
            texts, labels = read_labelled_csv(train, columns, label_col)
            if cv:
                result = cross_validate(texts, labels, folds=cv, repeats=repeats, seed=seed,
                                        label_descriptions=label_descriptions)
                self.stdout.write(f"accuracy {result['accuracy'][0]:.3f}")
                self.stdout.write(f"macro-F1 {result['macro_f1'][0]:.3f}")
                self.stdout.write(f"{result['runs']} 次验证：accuracy 标准差 {result['accuracy'][1]:.3f}，"
                                  f"macro-F1 标准差 {result['macro_f1'][1]:.3f}")
                return
            test_texts, test_labels = read_labelled_csv(test, columns, label_col)
            result = evaluate(texts, labels, test_texts, test_labels, label_descriptions=label_descriptions)
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"accuracy {result['accuracy']:.3f}")
        self.stdout.write(f"macro-F1 {result['macro_f1']:.3f}")
        for label, row in result["per_class"].items():
            self.stdout.write(f"{label}\tprecision {row['precision']:.3f}\trecall {row['recall']:.3f}\t"
                              f"F1 {row['f1']:.3f}\tsupport {row['support']}")
