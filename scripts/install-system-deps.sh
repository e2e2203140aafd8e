#!/usr/bin/env bash
# Installs the Debian packages berth's end-to-end tests drive (real third-party clients).
# curl: the S3 e2e downloads a presigned GetDownloadUrlForLayer URL with it.
# chromium: the console browser tests drive Debian's build with playwright-core (never a downloaded browser).
# haproxy: the scale-out test (test/e2e/scale-out.test.ts) balances three berth nodes with it.
# rpm, db5.3-util: the rpmdb tests build packages with rpmbuild, install them with rpm and write BerkeleyDB
#   Packages files with db5.3_load (test/fixtures/rpmdb.ts).
# Idempotent; needs root (CI and the dev machines run as root).
set -euo pipefail
packages=(skopeo podman crun zstd zip chromium curl haproxy rpm db5.3-util)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The aws CLI usually comes with the machine image (pip); Debian's awscli package is the fallback.
command -v aws >/dev/null 2>&1 || missing+=(awscli)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "system packages ready: ${packages[*]}, aws CLI: $(aws --version 2>&1 | head -1)"
