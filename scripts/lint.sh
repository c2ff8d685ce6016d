#!/usr/bin/env bash
# Style checks, as CI runs them: swift-format's rules (.swift-format, --strict), no line of Sources
# or Fuzz over 120 columns (string literals included, which the formatter cannot break) and no Swift
# file over 600 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive Sources Tests Fuzz Package.swift
python3 - <<'PY'
import pathlib, sys
problems = []
for path in sorted(list(pathlib.Path("Sources").rglob("*.swift")) + list(pathlib.Path("Fuzz").rglob("*.swift"))):
    lines = path.read_text(encoding="utf-8").split("\n")
    problems += [f"{path}:{i}: {len(l)} columns (at most 120)" for i, l in enumerate(lines, 1) if len(l) > 120]
for path in sorted(p for d in ("Sources", "Tests", "Fuzz") for p in pathlib.Path(d).rglob("*.swift")):
    n = path.read_text(encoding="utf-8").count("\n")
    if n > 600:
        problems.append(f"{path}: {n} lines (at most 600: split it)")
print("\n".join(problems), file=sys.stderr) if problems else None
sys.exit(1 if problems else 0)
PY
