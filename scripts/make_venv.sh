#!/usr/bin/env bash
# Creates the project's virtualenv with Python $2 (Rasa 3.6 needs < 3.11): pyenv's build when there
# is one, else python$2 on the PATH.
set -euo pipefail
venv=$1 version=$2
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))"; then
  exit 0
fi
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)/versions/$version"*; do candidates+=("$dir/bin/python"); done
fi
candidates+=("$(command -v "python$version" || true)")
python=""
for candidate in "${candidates[@]}"; do
  # A pyenv shim exists even when it can't run: try each candidate for real.
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "Python $version not found. Install it (e.g. 'pyenv install $version') and run make again." >&2
  exit 1
fi
echo "Creating $venv with $python"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --disable-pip-version-check -q --upgrade "pip==24.3.1"
