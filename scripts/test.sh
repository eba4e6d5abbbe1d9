#!/usr/bin/env bash
# Every check and test of the workspace. Installs what it needs on a fresh machine
# (the thumbv7em target, rustfmt and clippy); CI runs exactly this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf
# Real peers the tests start: unshare(1) for private mount namespaces, Prometheus (its
# server scrapes the agent), promtool and Debian's node_exporter for /metrics, sqlite3
# on the sFlow history, qemu-system-arm to boot the gateway firmware and
# arm-none-eabi-size to measure it, OpenSSH's sshd for the agentless /monitor tests,
# tshark to decode the sFlow captures beside the core's decoder.
missing=()
command -v unshare >/dev/null || missing+=(util-linux)
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
command -v openssl >/dev/null || missing+=(openssl)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v ip >/dev/null || missing+=(iproute2)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
command -v arm-none-eabi-size >/dev/null || missing+=(binutils-arm-none-eabi)
command -v tshark >/dev/null || missing+=(tshark)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
# The WebSocket client the psiod tests drive, and sflow-monitor README's JSON-RPC client.
python3 -c "import websockets" 2>/dev/null || python3 -m pip install --quiet websockets
python3 -c "import jsonrpclib" 2>/dev/null || python3 -m pip install --quiet jsonrpclib-pelix

step "format"
cargo fmt --all -- --check

step "clippy (workspace, then core alone with no features)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p ferrostat-core --all-targets -- -D warnings

step "tests: workspace (core with serde, agent, benches)"
cargo test --workspace
step "tests: core with no features, then each feature alone"
cargo test -p ferrostat-core
cargo test -p ferrostat-core --features std
cargo test -p ferrostat-core --features serde

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc -p ferrostat-core --no-deps --features serde

step "no_std link check (no allocator, own panic handler)"
for features in "" "serde" "serde,defmt"; do
    cargo build --manifest-path no-std-check/Cargo.toml --features "$features"
done

step "thumbv7em-none-eabihf builds of the core, per feature set"
for features in "" "serde" "defmt" "serde,defmt"; do
    cargo build -p ferrostat-core --target thumbv7em-none-eabihf --no-default-features --features "$features"
done

step "embedded crate: host tests and thumbv7em build"
cargo fmt --manifest-path agent-embassy/Cargo.toml -- --check
cargo clippy --manifest-path agent-embassy/Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path agent-embassy/Cargo.toml
cargo fmt --manifest-path agent-embassy/qemu/Cargo.toml -- --check
cargo clippy --manifest-path agent-embassy/qemu/Cargo.toml --target thumbv7em-none-eabihf -- -D warnings
cargo fmt --manifest-path agent-embassy/nucleo-f767zi/Cargo.toml -- --check
cargo clippy --manifest-path agent-embassy/nucleo-f767zi/Cargo.toml --target thumbv7em-none-eabihf -- -D warnings
step "the gateway firmware under QEMU (mps2-an386)"
scripts/qemu-gateway.sh
step "the NUCLEO-F767ZI gateway image and its size"
scripts/firmware-size.sh
step "gateway to agent end to end (network namespace, TAP device, real agent)"
scripts/gateway-e2e.sh
cargo build --manifest-path agent-embassy/Cargo.toml --target thumbv7em-none-eabihf --release

# The benchmarks are type-checked by clippy --all-targets above; building them in the
# bench profile (the whole agent at opt-level 3) cost CI about eight minutes a run.

step "fuzzing (the committed corpus is replayed by core/tests/fuzz_corpus.rs and agent-std/tests/fuzz_corpus.rs above)"
# cargo-fuzz on the nightly toolchain the machine has; installed here when missing, so
# CI fuzzes every target on a fresh machine too.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
# Each target briefly: the core's parsers 5 s, what the agent reads from the network
# 10 s; longer runs are in SECURITY.md. No sanitizer: the core and the agent forbid
# unsafe code, so what a short run finds is a panic, a hang or runaway memory, which
# libFuzzer reports without one, and the build is quicker.
cargo +nightly fuzz build --fuzz-dir fuzz -s none
for target in $(cargo +nightly fuzz list --fuzz-dir fuzz); do
    case "$target" in agent_*) seconds=10 ;; *) seconds=5 ;; esac
    cargo +nightly fuzz run --fuzz-dir fuzz -s none "$target" -- -max_total_time=$seconds -rss_limit_mb=2048 >/dev/null 2>"target/fuzz-$target.log" \
        || { cat "target/fuzz-$target.log"; exit 1; }
    echo "fuzz $target: $(grep -o 'Done [0-9]* runs' "target/fuzz-$target.log" || echo ok)"
done

step "all checks passed"
