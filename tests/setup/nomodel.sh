#!/usr/bin/env bash
# What the no-model end-to-end tests (tests/e2e/no_model.rs) need besides Rust: node with npm (an
# npm workspace runs `npm run build` / `npm test`) and python3 with the venv module (a Python
# workspace with a `.venv`). Idempotent: installs from Debian's apt only what is missing; nothing to
# cache (apt keeps its own), works with no cache. Prints one line of what it did.
set -euo pipefail

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # `python3 -m venv --without-pip` needs only venv; Debian splits it out as python3-venv.
    python3 -c 'import venv' >/dev/null 2>&1 || missing+=(python3-venv)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "nomodel setup: node $(node --version), npm $(npm --version), $(python3 --version) already present"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "nomodel setup: installed ${missing[*]} with apt"
