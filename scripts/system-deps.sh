#!/usr/bin/env bash
# Install the system tools the test suite drives: Chromium (the HTML report in a real browser)
# and pdflatex with booktabs (the LaTeX report). Does nothing when they are all present, so it is
# safe to call before every test run; apt-get is used only for what is missing.
set -euo pipefail

packages=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    packages+=(chromium)
fi
if ! command -v pdflatex >/dev/null 2>&1 || ! kpsewhich booktabs.sty >/dev/null 2>&1; then
    packages+=(texlive-latex-base texlive-latex-recommended)
fi
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${packages[*]} and no apt-get here; install them with your package manager." >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "system-deps: installing ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
