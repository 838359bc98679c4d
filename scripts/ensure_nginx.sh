#!/usr/bin/env bash
# Installs nginx when missing, for the gateway configuration test (`nginx -t` on docker/nginx/nginx.conf).
# Idempotent; needs apt-get and root (or sudo). Elsewhere, install nginx yourself.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  echo "nginx is installed."
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx is missing and there is no apt-get here: install nginx yourself." >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Installing nginx needs root: run this script as root or install sudo." >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "Installing nginx-light..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light >/dev/null
echo "Installed nginx-light."
