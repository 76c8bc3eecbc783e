#!/usr/bin/env bash
# Installs what the plan-file editor test needs: Emacs without X and eglot (Debian packages
# emacs-nox and elpa-eglot), for tests/emacs.rs. Idempotent: does nothing when both are there.
# apt keeps its own package cache; nothing else is cached (the install works without a cache).
set -euo pipefail

if command -v emacs >/dev/null 2>&1 && [ -d /usr/share/emacs/site-lisp/elpa-src ] \
  && ls -d /usr/share/emacs/site-lisp/elpa-src/eglot-* >/dev/null 2>&1; then
  echo "planfiles.sh: emacs and eglot already installed ($(emacs --version | head -n 1))"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo -n apt-get "$@"; fi; }
apt_get update -qq >/dev/null
apt_get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null
echo "planfiles.sh: installed $(emacs --version | head -n 1) and eglot"
