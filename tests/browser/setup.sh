#!/bin/sh
# Installs the browser test's npm dependencies (playwright-core only: it drives Debian's
# /usr/bin/chromium and downloads no browser). Needs the Debian packages in
# .ci/packages-signin.txt. Usage: sh tests/browser/setup.sh
set -eu
cd "$(dirname "$0")"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
