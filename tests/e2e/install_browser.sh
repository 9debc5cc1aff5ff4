#!/bin/sh
# Prepare the browser tests (tests/e2e): Debian's Chromium and axe-core from the npm registry.
#
# Playwright's own browser download cannot work here, so the tests drive the Debian package
# (/usr/bin/chromium) through Playwright's executable_path. This script
#   - installs `chromium` with apt-get when it is missing and we are root with apt-get,
#   - installs axe-core into tests/e2e/node_modules with `npm ci` when it is missing.
# Without root/apt-get or npm it only prints what to install and exits 0: the browser tests
# then skip with a loud message. Where the install is possible but fails, it exits non-zero,
# so that CI (which runs as root) never silently skips the browser tests.
#
# Environment: E2E_CHROMIUM overrides the browser path (default /usr/bin/chromium).
set -u

here=$(cd "$(dirname "$0")" && pwd)
chromium=${E2E_CHROMIUM:-/usr/bin/chromium}
status=0

say() { printf '[e2e] %s\n' "$*"; }
loud() {
    printf '\n[e2e] ************************************************************\n'
    printf '[e2e] %s\n' "$@"
    printf '[e2e] ************************************************************\n\n'
}

# --- Chromium -------------------------------------------------------------------------------
if [ -x "$chromium" ]; then
    say "Chromium found: $("$chromium" --version 2>/dev/null || echo "$chromium")"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Debian's chromium with apt-get ..."
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            chromium fonts-dejavu-core fonts-liberation >/dev/null; then
        say "Chromium installed: $("$chromium" --version 2>/dev/null || echo "$chromium")"
    else
        loud "apt-get install chromium FAILED: the browser tests cannot run."
        status=1
    fi
else
    loud "Chromium is missing: the browser tests (tests/e2e) will be SKIPPED." \
         "Install it as root:  apt-get install -y chromium" \
         "(or point E2E_CHROMIUM at a Chromium/Chrome binary)."
fi

# --- axe-core -------------------------------------------------------------------------------
if [ -f "$here/node_modules/axe-core/axe.min.js" ]; then
    say "axe-core found in tests/e2e/node_modules."
elif command -v npm >/dev/null 2>&1; then
    say "Installing axe-core with npm ci ..."
    if (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
        say "axe-core installed."
    else
        loud "npm ci in tests/e2e FAILED: the accessibility checks cannot run."
        status=1
    fi
else
    loud "npm is missing: the accessibility checks will be SKIPPED." \
         "Install Node.js and npm, then run:  npm ci --prefix tests/e2e"
fi

exit $status
