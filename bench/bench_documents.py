"""Generating a 行政处罚决定书 (chengguan.documents): milliseconds per document for the DOCX
(python-docx) and the PDF (WeasyPrint with Noto Serif CJK SC), median and p95 over 30 runs
each after one warm-up, from the default template and the example context (template lookup,
context check and rendering included; numbering and storing are not).

Baseline: 1 second per document, what an officer waiting at a counter or on the street for a
printed decision tolerates; the ratio says how many times faster than that we are (> 1 is
better). Also the share of time the PDF takes. Runs on the SQLite bench database."""

import statistics
import time

from .common import SQLITE_URL, setup_django

RUNS = 30
BASELINE_MS = 1000.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    setup_django(SQLITE_URL)
    from chengguan.core.errors import BusinessRuleError
    from chengguan.documents import rendering, services
    from chengguan.documents.examples import example_context

    kind = "penalty_decision"
    try:
        rendering.check_pdf_engine()
    except BusinessRuleError as exc:
        print(f"documents: skipped, {exc.message}")
        return
    context = example_context(kind) | {"number": "闵城管罚决字〔2026〕第00001号"}

    def html():
        template = services.active_template(kind)
        return template, rendering.render_html(template.body, services.prepare_context(kind, context))

    def docx():
        template, page = html()
        return rendering.to_docx(rendering.parse_blocks(page), title=template.name)

    def pdf():
        template, page = html()
        return rendering.to_pdf(page, title=template.name)

    figures = {}
    for label, make in (("DOCX", docx), ("PDF", pdf)):
        size = len(make())  # warm-up: imports, fonts
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            make()
            times.append((time.perf_counter() - started) * 1000)
        median, p95 = statistics.median(times), percentile(times, 0.95)
        figures[label] = median
        print(f"documents: 行政处罚决定书 {label} median {median:.1f} ms, p95 {p95:.1f} ms over {RUNS} runs "
              f"({size / 1024:.0f} KB); baseline {BASELINE_MS:.0f} ms/document: ratio {BASELINE_MS / median:.1f}×")
    both = figures["DOCX"] + figures["PDF"]
    print(f"  both files {both:.1f} ms (ratio to baseline {BASELINE_MS / both:.1f}×), "
          f"PDF {figures['PDF'] / both:.0%} of it")


if __name__ == "__main__":
    main()
