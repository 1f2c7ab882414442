#!/bin/sh
# Installs schemathesis (pinned) into a virtualenv under target/ unless it is there;
# prints the virtualenv's path. GOSDOM_SCHEMATHESIS_VENV overrides the place.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${GOSDOM_SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
version=4.32.5

if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
    echo "installing schemathesis $version into $venv" >&2
    python3 -m venv "$venv" >&2 || {
        echo "cannot create a virtualenv: install the Debian package python3-venv" >&2
        exit 3
    }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" >&2 || {
        echo "cannot install schemathesis $version from PyPI" >&2
        exit 3
    }
fi
echo "$venv"
