#!/usr/bin/env bash
# Make a local PostgreSQL answer on 127.0.0.1:5432: start the cluster when it is installed but
# down, install it (Debian's package) when it is missing.
set -euo pipefail

ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -h 127.0.0.1 -p 5432 -q
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

ready && exit 0

installed_now=0
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL is not installed: installing Debian's package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    installed_now=1
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ "$installed_now" = 1 ]; then
    # A new cluster asks for passwords over TCP; a developer's local one trusts localhost, as the
    # documented DATABASE_URL default (no password) expects.
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster "$version" main start 2>/dev/null || true
[ "$installed_now" = 1 ] && pg_ctlcluster "$version" main reload 2>/dev/null || true

for _ in $(seq 1 60); do
    ready && exit 0
    sleep 0.5
done
echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
