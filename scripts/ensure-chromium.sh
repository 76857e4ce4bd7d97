#!/usr/bin/env bash
# ensure-chromium.sh makes sure a headless Chromium is installed for the
# board's browser test (cmd/walnut/board_browser_test.go). When it is missing
# it installs Debian's chromium package if it can (root with apt-get), and
# otherwise says what to install and fails. Quiet when present.
set -euo pipefail

for name in chromium chromium-browser google-chrome; do
	if command -v "$name" >/dev/null 2>&1; then
		exit 0
	fi
done
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: installing chromium with apt-get" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	exit 0
fi
echo "ensure-chromium: Chromium is missing; install it (sudo apt-get install chromium) for the browser test" >&2
exit 1
