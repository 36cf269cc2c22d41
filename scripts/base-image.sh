#!/usr/bin/env bash
# Build the local base image (Debian bookworm, python3) that `make image` starts FROM.
# No container registry is reachable here, so the base comes from debootstrap; a real pipeline
# passes its own BASE_IMAGE instead. Cached: nothing happens when the image already exists.
set -euo pipefail
IMAGE=${1:?usage: base-image.sh NAME:TAG}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# A registry image (python:3.12-slim-bookworm, ...) is pulled by the build itself.
case "$IMAGE" in localhost/*) ;; *) exit 0 ;; esac
if podman image exists "$IMAGE"; then
    exit 0
fi
rootfs=$(mktemp -d /tmp/event-data-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap bookworm into $rootfs (about a minute)" >&2
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >/dev/null
# What a runtime image never needs: apt's lists and caches, docs and man pages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
tar -C "$rootfs" -c . | podman import --quiet - "$IMAGE" >/dev/null
echo "base-image: $IMAGE imported" >&2
