#!/usr/bin/env python3
"""Copy the front-end files the UI needs from node_modules/ into chengguan/static/vendor/.

Run after `npm ci` (the Makefile's `make install` does both). The vendor folder is git-ignored
and rebuilt from scratch on every run, so the script is idempotent. Everything is served from
our own static files: government intranets have no CDN.
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "chengguan" / "static" / "vendor"

# target folder → list of (source relative to node_modules, destination relative to target)
ASSETS: dict[str, list[tuple[str, str]]] = {
    "bootstrap": [
        ("bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"),
        ("bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"),
        ("bootstrap/LICENSE", "LICENSE"),
    ],
    "bootstrap-icons": [
        ("bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons.min.css"),
        ("bootstrap-icons/font/fonts/bootstrap-icons.woff2", "fonts/bootstrap-icons.woff2"),
        ("bootstrap-icons/font/fonts/bootstrap-icons.woff", "fonts/bootstrap-icons.woff"),
        ("bootstrap-icons/LICENSE", "LICENSE"),
    ],
    "htmx": [
        ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
        ("htmx.org/LICENSE", "LICENSE"),
    ],
    "echarts": [
        ("echarts/dist/echarts.min.js", "echarts.min.js"),
        ("echarts/LICENSE", "LICENSE"),
    ],
    "leaflet": [
        ("leaflet/dist/leaflet.css", "leaflet.css"),
        ("leaflet/dist/leaflet.js", "leaflet.js"),
        ("leaflet/dist/images/layers.png", "images/layers.png"),
        ("leaflet/dist/images/layers-2x.png", "images/layers-2x.png"),
        ("leaflet/dist/images/marker-icon.png", "images/marker-icon.png"),
        ("leaflet/dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
        ("leaflet/dist/images/marker-shadow.png", "images/marker-shadow.png"),
        ("leaflet/LICENSE", "LICENSE"),
    ],
    "swagger-ui": [
        ("swagger-ui-dist/swagger-ui.css", "swagger-ui.css"),
        ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"),
        ("swagger-ui-dist/swagger-ui-standalone-preset.js", "swagger-ui-standalone-preset.js"),
        ("swagger-ui-dist/favicon-32x32.png", "favicon-32x32.png"),
        ("swagger-ui-dist/LICENSE", "LICENSE"),
    ],
}

# We do not ship source maps; a dangling sourceMappingURL would make collectstatic with the
# manifest storage (production) fail on the missing .map file, so the comment is removed.
SOURCE_MAP = re.compile(rb"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+?\s*\*/)\s*$")


def copy_asset(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix in {".js", ".css"}:
        dst.write_bytes(SOURCE_MAP.sub(b"\n", src.read_bytes()))
    else:
        shutil.copyfile(src, dst)


def main() -> int:
    if not NODE_MODULES.is_dir():
        print(
            f"错误：找不到 {NODE_MODULES}。请先运行 `npm ci` 安装前端依赖。\n"
            "Error: node_modules/ is missing; run `npm ci` first.",
            file=sys.stderr,
        )
        return 1
    missing = [src for files in ASSETS.values() for src, _ in files if not (NODE_MODULES / src).is_file()]
    if missing:
        print(
            "错误：node_modules 中缺少以下文件，请重新运行 `npm ci`：\n"
            "Error: these files are missing from node_modules; rerun `npm ci`:\n  "
            + "\n  ".join(missing),
            file=sys.stderr,
        )
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    count = 0
    for lib, files in ASSETS.items():
        for src, dst in files:
            copy_asset(NODE_MODULES / src, VENDOR / lib / dst)
            count += 1
    print(f"已复制 {count} 个前端文件到 {VENDOR.relative_to(ROOT)}/ (copied {count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
