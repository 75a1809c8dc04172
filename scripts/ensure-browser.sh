#!/usr/bin/env bash
# Makes sure the browser tier (tests/browser) can run: Debian's Chromium, which Playwright drives
# through executable_path (`playwright install` downloads a browser build of its own, which we
# do not use), and the Inter font that the README's screenshots are rendered with.
# Idempotent, and silent when everything is there. `make test` runs it.
set -euo pipefail

CHROMIUM="${RELAIS_CHROMIUM:-/usr/bin/chromium}"

missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
if command -v dpkg-query >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' fonts-inter 2>/dev/null | grep -q "ok installed"; then
  missing+=(fonts-inter)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: ${missing[*]} missing and there is no apt-get here: install Chromium yourself" \
       "and set RELAIS_CHROMIUM=/path/to/chromium" >&2
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
if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure-browser: $CHROMIUM is still missing after installing ${missing[*]}" >&2
  exit 1
fi
