#!/usr/bin/env bash
# Builds the NUCLEO-F767ZI gateway image (release, no logging) and reports its flash and
# static RAM with arm-none-eabi-size; fails past the budget of 48 KB flash, 24 KB RAM.
set -euo pipefail
cd "$(dirname "$0")/../agent-embassy/nucleo-f767zi"
cargo build --release --target thumbv7em-none-eabihf
elf=target/thumbv7em-none-eabihf/release/ferrostat-embassy-nucleo-f767zi
arm-none-eabi-size "$elf"
read -r text data bss _ < <(arm-none-eabi-size "$elf" | tail -1)
flash=$((text + data))
ram=$((data + bss))
echo "NUCLEO-F767ZI gateway: flash $flash B (budget 49152), static RAM $ram B (budget 24576)"
[ "$flash" -le 49152 ] && [ "$ram" -le 24576 ]
