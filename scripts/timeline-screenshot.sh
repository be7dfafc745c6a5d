#!/usr/bin/env bash
# Regenerates docs/images/timeline.png, the picture of the run time line in docs/operations.md:
# on a throwaway embedded database, the demo's data (`batch demo`), two realistic days of run
# history with failures, a timeout, a skipped and a missed run (`batch demo-seed --run-history`),
# the page (`batch history --html`), and headless Chromium's screenshot of it. Installs Chromium
# and a Japanese font (Debian's chromium, fonts-ipafont-gothic) when missing and run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

ensure_debian_package chromium chromium
# The sample data holds Japanese text; without a font that has it, the picture shows boxes.
if ! fc-list :lang=ja | grep -q .; then
    ensure_debian_package fc-list fontconfig
    if [[ $(id -u) -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >&2
    else
        echo "warning: no Japanese font; install fonts-ipafont-gothic for a faithful picture" >&2
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/batchbox-timeline.XXXXXX")
trap 'rm -rf "$work"' EXIT
cargo build --quiet --bin batch
batch="${CARGO_TARGET_DIR:-target}/debug/batch"

# Only the embedded default: nothing of the caller's environment reaches the sample.
run() {
    env -u DATABASE_URL -u EXPORT_BUCKET -u REPORT_SCHEDULES BATCH_DATA_DIR="$work/data" LOG_FORMAT=json "$batch" "$@"
}
run demo >/dev/null
run demo-seed --records 0 --run-history >/dev/null
run history --html "$work/timeline.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --window-size=1400,900 \
    --screenshot="$PWD/docs/images/timeline.png" "file://$work/timeline.html" 2>/dev/null
echo "wrote docs/images/timeline.png" >&2
