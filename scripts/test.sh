#!/usr/bin/env bash
# Set up everything the whole test suite needs, from scratch, then run it.
# System packages: the lab tests need iproute2/tcpdump/iptables (root, network
# namespaces); the discovery tests build vcsim from Debian's govmomi; the
# evidence benchmark compares against tshark; the HTML reports are loaded in
# headless chromium (tests/render/test_html_browser.py). Python packages go into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PKGS="iproute2 tcpdump iptables tshark golang-go golang-github-vmware-govmomi-dev chromium"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "installing:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi
bash scripts/venv.sh test
exec .venv/bin/python -m pytest "$@"
