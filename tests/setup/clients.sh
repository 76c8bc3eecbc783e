#!/usr/bin/env bash
# Installs what tests/e2e/mcp.rs and tests/e2e/acp.rs need: the official MCP client SDK
# (`@modelcontextprotocol/sdk`) and the ACP SDK (`@agentclientprotocol/sdk`) into tests/clients,
# from its package-lock.json, with node and npm (apt, when missing). Idempotent: the packages are
# reinstalled only when the lock changes (a stamp keyed by its sha256); npm's download cache lives
# under ~/.cache/codelab-planner/npm; works the same with an empty cache. Prints one line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
clients="$root/tests/clients"
cache="${CODELAB_CACHE_DIR:-$HOME/.cache/codelab-planner}"
mkdir -p "$cache"
export npm_config_cache="$cache/npm" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export npm_config_loglevel=error

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

stamp="$clients/node_modules/.codelab-lock-sha256"
lock_sha="$(sha256sum "$clients/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" = "$lock_sha" ]; then
    echo "tests/setup/clients.sh: MCP and ACP SDK clients already installed (node $(node --version))"
    exit 0
fi
(cd "$clients" && npm ci --prefer-offline >/dev/null)
echo "$lock_sha" >"$stamp"
echo "tests/setup/clients.sh: installed the MCP and ACP SDK clients in tests/clients (node $(node --version))"
