#!/bin/sh
# Test the SDK runtime module without an engine.
# Needs: python3 (>= 3.11) with the venv module and network access to PyPI the
# first time (Debian: apt-get install -y python3 python3-venv).
# Creates sdk/.venv once, reinstalls only when requirements-test.txt changes,
# then runs pytest; extra arguments go to pytest.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
reqs="$here/requirements-test.txt"
stamp="$venv/.requirements.sha256"
python=${PYTHON:-python3}

if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "test.sh: creating $venv" >&2
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        echo "test.sh: '$python -m venv' failed; on Debian install python3-venv" >&2
        exit 1
    fi
fi

if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "test.sh: Python 3.11 or newer is required (tomllib)" >&2
    exit 1
fi

want=$(sha256sum "$reqs" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
    echo "test.sh: installing $(basename "$reqs")" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
    echo "$want" >"$stamp"
fi

cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
