#!/bin/sh
# Fetch Debian's stock kernel and busybox, and build a test initramfs.
#   getlinux.sh OUTDIR [all|kernel|initrd]
# kernel: OUTDIR/vmlinuz (the bzImage that linux-image-amd64 depends on
# today), OUTDIR/busybox and OUTDIR/version. Cached: the .debs stay in
# OUTDIR/debs, and nothing is fetched again while the dependency still
# names the same kernel package.
# initrd: OUTDIR/initrd.img (busybox, gzip'd newc cpio, /init from
# tests/linux/init, and every program in OUTDIR/prog/ as /bin/NAME, which
# the Makefile builds from tests/linux/prog/*.c); never fetches anything.
# all (the default): both.
set -eu
out=${1:-build/linux}
mode=${2:-all}
case "$mode" in all|kernel|initrd) ;; *) echo "getlinux: unknown mode '$mode' (all|kernel|initrd)" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)

# apt-get download, quietly unless it fails.
dl() {
    if ! apt-get download -q "$1" >"$out/debs/apt.log" 2>&1; then
        cat "$out/debs/apt.log" >&2
        echo "getlinux: apt-get download $1 failed" >&2
        exit 1
    fi
}

if [ "$mode" != initrd ]; then
    # The kernel package the metapackage depends on: it moves with each point release.
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
    if [ -z "$pkg" ]; then
        echo "getlinux: apt-cache knows no linux-image-amd64 (run apt-get update?)" >&2
        exit 1
    fi


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
fi

# --- vigil's test module (tests/linux/module, vigiltest.ko) --------------------
# Built against Debian's headers for exactly this kernel: linux-headers-VER,
# its -common and linux-kbuild-X.Y, fetched with apt-get download and
# unpacked under OUTDIR/headers (nothing is installed). gcc-12 is the
# kernel's own compiler (the headers' .kernelvariables name it).
module_ko="$out/module/vigiltest.ko"
build_module() {
    kver=${pkg#linux-image-}                       # 6.1.0-57-amd64
    hd="$out/headers"
    if [ "$(cat "$hd/.version" 2>/dev/null)" != "$kver" ]; then
        rm -f linux-headers-*.deb linux-kbuild-*.deb
        for p in "linux-headers-$kver" "linux-headers-${kver%-*}-common" "linux-kbuild-$(echo "$kver" | cut -d. -f1,2)"; do
            echo "getlinux: apt-get download $p"
            dl "$p"
        done
        rm -rf "$hd"; mkdir -p "$hd"
        for d in linux-headers-*.deb linux-kbuild-*.deb; do dpkg-deb -x "$d" "$hd"; done
        # The flavour's Makefile includes the common one by its installed path.
        sed -i "s|^include /usr/src/|include $hd/usr/src/|" "$hd/usr/src/linux-headers-$kver/Makefile"
        echo "$kver" > "$hd/.version"
    fi
    src="$root/tests/linux/module"
    if [ ! -f "$module_ko" ] || [ -n "$(find "$src" -newer "$module_ko")" ]; then
        rm -rf "$out/module"; mkdir -p "$out/module"
        cp "$src"/* "$out/module/"
        if ! make -C "$hd/usr/src/linux-headers-$kver" M="$out/module" modules >"$out/module/build.log" 2>&1; then
            cat "$out/module/build.log" >&2
            echo "getlinux: building tests/linux/module against linux-headers-$kver failed" >&2
            exit 1
        fi
        strip --strip-debug "$module_ko"          # the initramfs carries it: no debug info
        echo "getlinux: $module_ko"
    fi
}

# The module is rebuilt from its sources in any mode (the headers, fetched
# once by kernel mode, are kept).
[ -n "${pkg:-}" ] || pkg=$(cat "$out/version" 2>/dev/null || true)
if [ -n "$pkg" ]; then
    cd "$out/debs"
    build_module
fi

# The initramfs: rebuilt when asked (mode initrd: make saw a newer input)
# or when /init, busybox or a program is newer (cheap: a few MB).
bb="$out/busybox"
init="$root/tests/linux/init"
if [ ! -x "$bb" ]; then
    echo "getlinux: no $bb (run make linux first)" >&2
    exit 1
fi
stale=no
if [ "$mode" = initrd ] || [ ! -f "$out/initrd.img" ] || [ "$init" -nt "$out/initrd.img" ] || \
   [ "$bb" -nt "$out/initrd.img" ] || \
   [ -n "$(find "$out/prog" -type f -newer "$out/initrd.img" 2>/dev/null)" ] || \
   [ "$module_ko" -nt "$out/initrd.img" ]; then
    stale=yes
fi
if [ "$stale" = yes ] && [ "$mode" != kernel ]; then
    ir="$out/initramfs"
    rm -rf "$ir"
    mkdir -p "$ir/bin" "$ir/sbin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/tmp" "$ir/etc"
    cp "$bb" "$ir/bin/busybox"
    for app in $("$bb" --list); do
        [ "$app" = busybox ] || ln -s busybox "$ir/bin/$app"
    done
    progs=""
    for p in "$out"/prog/*; do
        [ -f "$p" ] || continue
        cp "$p" "$ir/bin/$(basename "$p")"
        progs="$progs $(basename "$p")"
    done
    cp "$init" "$ir/init"
    if [ -f "$module_ko" ]; then                 # insmod'ed by /init on vigilmod=MODE
        mkdir -p "$ir/lib/modules" && cp "$module_ko" "$ir/lib/modules/vigiltest.ko"
    fi
    chmod 755 "$ir/init"
    (cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -9n > "$out/initrd.img.tmp"
    mv "$out/initrd.img.tmp" "$out/initrd.img"
    rm -rf "$ir"
    echo "getlinux: initramfs: busybox, /init, programs:${progs:- none}$([ -f "$module_ko" ] && echo ", vigiltest.ko")"
fi
# What this mode made is up to date now, whatever was rebuilt (make compares
# the times: the initramfs must not look older than the kernel).
if [ "$mode" != initrd ]; then
    touch "$out/vmlinuz"
    echo "getlinux: $pkg: $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes)"
fi
if [ "$mode" != kernel ]; then
    touch "$out/initrd.img"
    echo "getlinux: $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes)"
fi
