#!/bin/sh
# Prepare the PDF export (Abschlussbericht): WeasyPrint needs Debian's Pango and a font.
#
# WeasyPrint itself comes from PyPI (pyproject.toml); the C libraries it loads at run time
# (libpango-1.0, libpangoft2-1.0, via HarfBuzz and fontconfig) and a font with German glyphs
# come from apt. This script installs them with apt-get when they are missing and we are root
# with apt-get; otherwise it only says what to install and exits 0 (the PDF view then answers
# with an error message). Where the install is possible but fails, it exits non-zero, so that
# CI (which runs as root) never hides a broken PDF export.
set -u

say() { printf '[pdf] %s\n' "$*"; }

have_libs() {
    ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' \
        && { [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
             || fc-list 2>/dev/null | grep -qi 'dejavu\|liberation'; }
}

if have_libs; then
    say "Pango and fonts for WeasyPrint found."
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Pango and fonts for WeasyPrint with apt-get ..."
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; then
        say "Installed."
        exit 0
    fi
    say "apt-get install of Pango FAILED: the PDF export cannot work."
    exit 1
fi
say "Pango is missing and cannot be installed here (needs root and apt-get):"
say "  apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
exit 0
