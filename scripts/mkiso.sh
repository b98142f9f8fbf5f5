#!/bin/sh
# Build a GRUB rescue ISO that boots vigil at once (timeout 0), GRUB's own
# output on the serial port (COM1).
#   mkiso.sh OUT.iso --vigil VIGIL.elf "VIGIL ARGS" [--module FILE "CMDLINE"]... [--mb1]
# --kernel FILE "ARGS" boots FILE directly with multiboot2 (a bare guest);
# --mb1 uses GRUB's multiboot (version 1) command instead of multiboot2.
# --linux FILE "ARGS" [--initrd FILE] boots a Linux bzImage bare with GRUB's
# own linux and initrd commands.
set -eu
out=$1; shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-iso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub"
kcmd=multiboot2; mcmd=module2
entry=""
while [ $# -gt 0 ]; do
    case "$1" in
        --vigil|--kernel)
            cp "$2" "$tmp/iso/boot/$(basename "$2")"
            entry="$entry    \$kcmd /boot/$(basename "$2") $3
"
            shift 3 ;;
        --module)
            cp "$2" "$tmp/iso/boot/$(basename "$2")"
            entry="$entry    \$mcmd /boot/$(basename "$2") $3
"
            shift 3 ;;
        --linux)
            cp "$2" "$tmp/iso/boot/$(basename "$2")"
            entry="$entry    linux /boot/$(basename "$2") $3
"
            shift 3 ;;
        --initrd)
            cp "$2" "$tmp/iso/boot/$(basename "$2")"
            entry="$entry    initrd /boot/$(basename "$2")
"
            shift 2 ;;
        --mb1) kcmd=multiboot; mcmd=module; shift ;;
        *) echo "mkiso.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
entry=$(printf '%s' "$entry" | sed "s/\\\$kcmd/$kcmd/; s/\\\$mcmd/$mcmd/g")
cat > "$tmp/iso/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set default=0
menuentry "vigil" {
$entry
    boot
}
CFG
mkdir -p "$(dirname "$out")"
if ! grub-mkrescue -o "$out" "$tmp/iso" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    echo "mkiso.sh: grub-mkrescue failed" >&2
    exit 1
fi
