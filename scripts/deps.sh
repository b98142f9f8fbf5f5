#!/bin/sh
# Install the Debian packages vigil's build, runners and tests need.
# Usage: scripts/deps.sh [build|run|test|all]   (default: all)
# Idempotent: installs only what is missing. When it cannot install (not root,
# no package registry), it names the missing packages and how to install them.
set -u

BUILD="nasm gcc make binutils grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools"
RUN="bochs bochsbios vgabios python3"
TEST="libcmocka-dev qemu-system-x86 clang cpio gzip gcc-12 libc6-dev rsyslog ovmf"

case "${1:-all}" in
    build) want="$BUILD" ;;
    run)   want="$BUILD $RUN" ;;
    test|all) want="$BUILD $RUN $TEST" ;;
    *) echo "deps.sh: unknown set '$1' (build|run|test|all)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: not root, cannot install. As root, run:" >&2
    echo "    apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/tmp/vigil-deps.$$.log 2>&1; then
    tail -20 /tmp/vigil-deps.$$.log >&2
    echo "deps: apt-get failed (no package registry?). Missing:$missing" >&2
    echo "deps: install them by hand: apt-get install$missing" >&2
    rm -f /tmp/vigil-deps.$$.log
    exit 1
fi
rm -f /tmp/vigil-deps.$$.log
echo "deps: done"
