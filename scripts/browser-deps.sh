#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) and a Chinese font (so the screenshots the tests
# save are readable) for the real-browser tests (wechathhu/tests/browser/), when they are missing.
# Playwright drives this browser: it never downloads one itself. Where apt-get is unavailable or
# fails, it says so and exits 0: the browser tests then skip with that reason (and fail under
# CI=true, which allows no skips).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

need=()
[[ -x $CHROMIUM ]] || need+=(chromium)
if [[ -z $(fc-list :lang=zh-cn 2>/dev/null || true) ]]; then
  need+=(fonts-wqy-microhei)
fi
if ((${#need[@]} == 0)); then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get is not available: install Chromium as $CHROMIUM yourself, or the browser tests are skipped."
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Need root (or sudo) to install ${need[*]}: without chromium the browser tests are skipped."
    exit 0
  fi
  sudo="sudo"
fi
echo "Installing for the browser tests: apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; then
  echo "Installed ${need[*]} ($("$CHROMIUM" --version 2>/dev/null || echo "chromium"))"
else
  echo "Could not install ${need[*]} with apt-get: without chromium the browser tests are skipped."
fi
