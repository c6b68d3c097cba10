#!/usr/bin/env python3
"""Check that the committed openapi.yaml matches the API (CI runs this; exit 1 on drift).

    python scripts/check_openapi.py           # regenerate into a temp file and compare
    python scripts/check_openapi.py --write   # update openapi.yaml (`make openapi`)

The schema is generated with `manage.py spectacular --validate --fail-on-warn`, so a view
whose schema drf-spectacular cannot infer (a warning) fails the check too.
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "openapi.yaml"


def generate(target: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chengguan.settings"}
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(target)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit("OpenAPI 生成失败：请修正上面的警告或错误（通常是缺少 @extend_schema 的视图）。")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update openapi.yaml instead of checking it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "openapi.yaml"
        generate(fresh)
        new = fresh.read_text(encoding="utf-8")

    if args.write:
        COMMITTED.write_text(new, encoding="utf-8")
        print(f"已更新 {COMMITTED.relative_to(ROOT)}")
        return 0

    old = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if old == new:
        print("openapi.yaml 与 API 一致。")
        return 0
    diff = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                "openapi.yaml (committed)", "openapi.yaml (generated)")
    sys.stdout.writelines(diff)
    print("\nopenapi.yaml 与 API 不一致：请运行 `make openapi`（python scripts/check_openapi.py --write）"
          "并提交更新后的 openapi.yaml。", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
