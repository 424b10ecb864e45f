#!/usr/bin/env bash
# System packages from Debian, installed when missing (as root, with apt-get):
#   antiword                    reads legacy .doc files (without it they are reported as unsupported)
#   chromium, chromium-driver   the headless browser the scorecard tests and bench/scorecard.py drive
# Nothing is downloaded from elsewhere: no browser download by selenium or playwright.
set -u
want=()
command -v antiword >/dev/null 2>&1 || want+=(antiword)
[ -x /usr/bin/chromium ] || want+=(chromium)
[ -x /usr/bin/chromedriver ] || want+=(chromium-driver)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null 2>&1; }) \
    && echo "installed ${want[*]}" || echo "note: could not install ${want[*]} (apt-get install ${want[*]})"
else
  echo "note: missing ${want[*]}: run as root: apt-get install ${want[*]}"
fi
