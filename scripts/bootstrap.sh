#!/usr/bin/env bash
# Create .venv (if missing) and install pyhtc with its test extras into it.
# Used by scripts/test and scripts/demo; needs only python3 (>= 3.11) and pip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
    "$py" -m venv "$root/.venv"
fi
stamp="$root/.venv/.pyhtc-installed"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$root/.venv/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$root/.venv/bin/python" -m pip install -q -e "$root[test]"
    touch "$stamp"
fi
