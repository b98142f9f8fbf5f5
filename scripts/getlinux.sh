#!/bin/sh
# Fetch Debian's stock kernel and busybox, and build a test initramfs.
#   getlinux.sh OUTDIR
# Writes OUTDIR/vmlinuz (the bzImage that linux-image-amd64 depends on today),
# OUTDIR/initrd.img (busybox, gzip'd newc cpio, /init from tests/linux/init)
# and OUTDIR/version. Cached: the .debs stay in OUTDIR/debs, and nothing is
# fetched again while the dependency still names the same kernel package.
set -eu
out=${1:-build/linux}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)

# The kernel package the metapackage depends on: it moves with each point release.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
if [ -z "$pkg" ]; then
    echo "getlinux: apt-cache knows no linux-image-amd64 (run apt-get update?)" >&2
    exit 1
fi

# apt-get download, quietly unless it fails.
dl() {
    if ! apt-get download -q "$1" >"$out/debs/apt.log" 2>&1; then
        cat "$out/debs/apt.log" >&2
        echo "getlinux: apt-get download $1 failed" >&2
        exit 1
    fi
}

cd "$out/debs"
if [ ! -f "$out/vmlinuz" ] || [ "$(cat "$out/version" 2>/dev/null)" != "$pkg" ]; then
    rm -f linux-image-*.deb
    echo "getlinux: apt-get download $pkg"
    dl "$pkg"
    deb=$(ls linux-image-*.deb | head -1)
    rm -rf "$out/kx"; mkdir "$out/kx"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$out/kx" --wildcards './boot/vmlinuz-*'
    cp "$out"/kx/boot/vmlinuz-* "$out/vmlinuz.tmp"
    rm -rf "$out/kx"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"
    echo "$pkg" > "$out/version"
fi
if ! ls busybox-static_*.deb >/dev/null 2>&1; then
    echo "getlinux: apt-get download busybox-static"
    dl busybox-static
fi
bb="$out/busybox"
if [ ! -x "$bb" ]; then
    rm -rf "$out/bx"; mkdir "$out/bx"
    dpkg-deb --fsys-tarfile busybox-static_*.deb | tar -x -C "$out/bx" ./bin/busybox
    cp "$out/bx/bin/busybox" "$bb"
    rm -rf "$out/bx"
fi

# The initramfs: rebuilt whenever /init changes (cheap: busybox is 2 MB).
init="$root/tests/linux/init"
if [ ! -f "$out/initrd.img" ] || [ "$init" -nt "$out/initrd.img" ]; then
    ir="$out/initramfs"
    rm -rf "$ir"
    mkdir -p "$ir/bin" "$ir/sbin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/tmp" "$ir/etc"
    cp "$bb" "$ir/bin/busybox"
    for app in $("$bb" --list); do
        [ "$app" = busybox ] || ln -s busybox "$ir/bin/$app"
    done
    cp "$init" "$ir/init"
    chmod 755 "$ir/init"
    (cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -9n > "$out/initrd.img.tmp"
    mv "$out/initrd.img.tmp" "$out/initrd.img"
    rm -rf "$ir"
fi
# Both outputs are up to date now, whatever was rebuilt (make compares them).
touch "$out/vmlinuz"
touch "$out/initrd.img"
echo "getlinux: $pkg: $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes), $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes)"
