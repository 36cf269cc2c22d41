#!/usr/bin/env bash
# Install podman and what building a base image needs, when missing (a fresh CI machine has none).
# Quick and silent when everything is there.
set -euo pipefail

need=()
for tool in podman:podman buildah:buildah debootstrap:debootstrap runc:runc \
    fuse-overlayfs:fuse-overlayfs newuidmap:uidmap slirp4netns:slirp4netns; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "ensure-podman: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" skopeo >/dev/null
fi
