#!/usr/bin/env bash
# Optional system tools the readers use when present: antiword reads legacy .doc files.
# Without them nianbao still runs and reports such files as unsupported.
set -u
command -v antiword >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y -q antiword >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q antiword >/dev/null 2>&1; }) \
    && echo "installed antiword" || echo "note: could not install antiword; .doc files will be reported as unsupported"
else
  echo "note: antiword not found; .doc files will be reported as unsupported (apt-get install antiword)"
fi
