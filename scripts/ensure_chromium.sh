#!/usr/bin/env bash
# Installs what the web chat's browser test needs when it is missing: Debian's Chromium, its
# WebDriver (/usr/bin/chromium, /usr/bin/chromedriver) and a Chinese font for readable screenshots.
# Idempotent; needs apt-get and root (or sudo). Elsewhere, install Chromium and chromedriver yourself.
set -euo pipefail

packages=()
[[ -x /usr/bin/chromium ]] || packages+=(chromium)
[[ -x /usr/bin/chromedriver ]] || packages+=(chromium-driver)
if ! fc-list 2>/dev/null | grep -qiE 'wqy|noto (sans|serif) cjk|droid sans fallback'; then
  packages+=(fonts-wqy-microhei)
fi

if ((${#packages[@]} == 0)); then
  echo "Chromium, chromedriver and a Chinese font are installed."
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing ${packages[*]} and no apt-get here: install Chromium and chromedriver yourself" \
    "(the browser test looks for /usr/bin/chromium and /usr/bin/chromedriver)." >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Installing ${packages[*]} needs root: run this script as root or install sudo." >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "Installing ${packages[*]}..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
echo "Installed ${packages[*]}."
