#!/usr/bin/env bash
# Makes sure the browser tier (tests/browser) can run, from Debian's packages:
# - Chromium, which Playwright drives through executable_path (`playwright install` downloads a
#   browser build of its own, which we do not use), and the Inter font that the README's
#   screenshots are rendered with;
# - the two other engines fans use, for tests/browser/test_engines.py: Firefox ESR (Gecko, driven
#   over WebDriver BiDi by puppeteer-core from package.json) and WebKitGTK's WebDriver with its
#   MiniBrowser (WebKit, driven by Selenium from requirements-dev.txt) on an Xvfb display.
#   Playwright's own Firefox and WebKit builds are downloads too.
# Idempotent, and silent when everything is there. `make test` runs it.
set -euo pipefail

CHROMIUM="${RELAIS_CHROMIUM:-/usr/bin/chromium}"
FIREFOX="${RELAIS_FIREFOX:-/usr/bin/firefox-esr}"
WEBKIT_DRIVER="${RELAIS_WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}"
XVFB="${RELAIS_XVFB:-/usr/bin/Xvfb}"

missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
[[ -x "$FIREFOX" ]] || missing+=(firefox-esr)
[[ -x "$WEBKIT_DRIVER" ]] || missing+=(webkit2gtk-driver)
[[ -x "$XVFB" ]] || missing+=(xvfb)
if command -v dpkg-query >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' fonts-inter 2>/dev/null | grep -q "ok installed"; then
  missing+=(fonts-inter)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: ${missing[*]} missing and there is no apt-get here: install them yourself" \
       "and point RELAIS_CHROMIUM, RELAIS_FIREFOX, RELAIS_WEBKIT_DRIVER or RELAIS_XVFB at them" >&2
  exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "ensure-browser: ${missing[*]} missing; as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "ensure-browser: installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
for binary in "$CHROMIUM" "$FIREFOX" "$WEBKIT_DRIVER" "$XVFB"; do
  if [[ ! -x "$binary" ]]; then
    echo "ensure-browser: $binary is still missing after installing ${missing[*]}" >&2
    exit 1
  fi
done
