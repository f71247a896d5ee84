#!/usr/bin/env bash
# Debian packages the test suite needs: Postfix (the gateway tests run a
# private instance of it) and Chromium (the portal tests drive it through
# Playwright).  Installs only what is missing, non-interactively; a no-op on a
# machine that has them.  Needs root (or sudo) and Debian's package registry.
set -euo pipefail

missing=()
command -v /usr/sbin/postfix >/dev/null 2>&1 || missing+=(postfix)
command -v /usr/bin/chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
# Postfix asks how mail is delivered; the system instance is never used by
# the tests (they run their own), so "Local only" keeps it off the network.
echo "postfix postfix/main_mailer_type select Local only" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine.
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
