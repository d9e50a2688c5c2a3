#!/bin/sh
# Installs the Debian 12 packages mapleak builds and tests with, if missing.
set -e
PKGS="make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev \
libiberty-dev libbsd-dev libjansson-dev libclang-rt-14-dev pkg-config jq python3 procps \
clang-tidy groff-base passwd util-linux \
protobuf-c-compiler libprotobuf-c-dev protobuf-compiler golang-go python3-jsonschema xxd \
chromium binutils lld mold libncurses-dev tmux openjdk-17-jdk-headless curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "mapleak: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "mapleak: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $missing >/dev/null
fi
# tracefs is not needed by BPF itself but perf (bench) and debugging use it
if [ -d /sys/kernel/tracing ] && [ ! -d /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
exit 0
