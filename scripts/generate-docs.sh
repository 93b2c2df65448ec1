#!/usr/bin/env bash
# Regenerates man/dev-infra.1 and completions/ from the command definitions.
# With --check, regenerates into a temp folder and fails when the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."

# The man page's date is the release date, not today, so that the output is reproducible.
RELEASE_DATE=2026-11-26
check=false
[ "${1:-}" = "--check" ] && check=true

swift build --product dev-infra >/dev/null
bin="$(swift build --show-bin-path)/dev-infra"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/man" "$out/completions"

swift package plugin generate-manual --configuration debug --date "$RELEASE_DATE" \
    --authors "dev-infra maintainers" >/dev/null
cp .build/plugins/GenerateManual/outputs/dev-infra/dev-infra.1 "$out/man/dev-infra.1"
"$bin" --generate-completion-script bash > "$out/completions/dev-infra.bash"
"$bin" --generate-completion-script zsh > "$out/completions/_dev-infra"
"$bin" --generate-completion-script fish > "$out/completions/dev-infra.fish"

if $check; then
    if ! diff -ru man "$out/man" || ! diff -ru completions "$out/completions"; then
        echo "man/ or completions/ are stale: run scripts/generate-docs.sh and commit the result." >&2
        exit 1
    fi
    echo "man/ and completions/ are current."
else
    rm -rf man completions
    cp -R "$out/man" "$out/completions" .
    echo "wrote man/dev-infra.1 and completions/"
fi
