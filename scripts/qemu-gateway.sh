#!/usr/bin/env bash
# Builds the gateway firmware for QEMU's mps2-an386 and boots it: the image runs the
# real gateway tasks against a test peer and exits 0 with PASS, or 1 saying what failed.
set -euo pipefail
cd "$(dirname "$0")/../agent-embassy/qemu"
cargo build --release --target thumbv7em-none-eabihf
elf=target/thumbv7em-none-eabihf/release/ferrostat-embassy-qemu
out=$(timeout 120 qemu-system-arm -M mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf") || {
    echo "$out"; echo "qemu gateway image failed (exit $?)"; exit 1; }
echo "$out"
grep -q '^PASS' <<<"$out"
