#!/usr/bin/env bash
# The Debian package as an admin meets it: build the .deb, install it with dpkg into a clean
# Debian root, check the installed config, upgrade to a second build with the data kept,
# purge. Also `systemd-analyze verify` on the unit and lintian on the package.
# Needs root (debootstrap, chroot) and the network to Debian's package mirror.
set -euo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
step() { echo "package: $*"; }
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { failed=$((failed + 1)); echo "  FAILED: $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

if [ "$(id -u)" -ne 0 ]; then
  echo "package test needs root (debootstrap and chroot): run scripts/test as root" >&2
  exit 1
fi

step "building the release binary and two package versions"
cargo build --release --locked --quiet
version=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
out=target/package-test
rm -rf "$out"
mkdir -p "$out"
deb1="$out/gosdom_${version}-1_amd64.deb"
deb2="$out/gosdom_${version}-2_amd64.deb"
cargo deb --no-build --deb-version "${version}-1" --output "$deb1" --quiet >/dev/null
cargo deb --no-build --deb-version "${version}-2" --output "$deb2" --quiet >/dev/null
check "two packages built" test -f "$deb1" -a -f "$deb2"

step "lintian"
set +e
lintian_out=$(lintian --tag-display-limit 0 --fail-on error "$deb1" 2>&1)
lintian_code=$?
set -e
echo "$lintian_out" | grep -v "root privileges" | sed 's/^/    /'
check "lintian reports no errors" test "$lintian_code" -eq 0

root=$(mktemp -d /tmp/gosdom-root.XXXXXX)
chmod 0755 "$root"
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT

step "a clean Debian root"
cache=${GOSDOM_DEBOOTSTRAP_CACHE:-target/debootstrap-cache}
mkdir -p "$cache"
# dpkg -i installs no dependencies: the root gets the package's Depends up front, as
# `apt install ./gosdom.deb` would fetch them.
deps=$(dpkg-deb -f "$deb1" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | sed '/^$/d' | paste -sd, -)
debootstrap --variant=minbase --cache-dir="$(realpath "$cache")" --include="systemd,ca-certificates,adduser,$deps" \
  bookworm "$root" http://deb.debian.org/debian >/tmp/gosdom-debootstrap.log 2>&1 \
  || { tail -20 /tmp/gosdom-debootstrap.log; exit 1; }
mount -t proc proc "$root/proc"
in_root() { chroot "$root" "$@"; }

step "install with dpkg -i"
cp "$deb1" "$deb2" "$root/tmp/"
check "dpkg -i succeeds" in_root dpkg -i "/tmp/$(basename "$deb1")"
check "the gosdom user exists" in_root getent passwd gosdom
check "config is 640 root:gosdom" test "$(in_root stat -c '%a %U:%G' /etc/gosdom/config.toml)" = "640 root:gosdom"
check "state directory is 700 gosdom" test "$(in_root stat -c '%a %U' /var/lib/gosdom)" = "700 gosdom"
check "the unit is installed, not enabled" bash -c "test -f '$root/lib/systemd/system/gosdom.service' && ! test -e '$root/etc/systemd/system/multi-user.target.wants/gosdom.service'"
check "systemd-analyze verify passes on the unit" in_root systemd-analyze verify /lib/systemd/system/gosdom.service

step "check-config on the installed config"
set +e
out=$(in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml check-config 2>&1)
code=$?
set -e
echo "    $out"
check "an unconfigured install is refused with exit 2" test "$code" -eq 2
check "the message names what to set" grep -q "server.public_url" <<<"$out"

sed -i \
  -e 's|^public_url = ""|public_url = "https://dom.example.ru"|' \
  -e 's|^token = ""|token = "test-token"|' \
  -e 's|^webhook_secret = ""|webhook_secret = "0123456789abcdef"|' \
  -e 's|^client_id = ""|client_id = "GOSDOM"|' \
  -e 's|^org_ppa_guid = ""|org_ppa_guid = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"|' \
  -e 's|^kind = "none"|kind = "command"\ncommand = ["/bin/cat"]|' \
  "$root/etc/gosdom/config.toml"
check "the configured install passes check-config" in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml check-config
check "migrate creates the database" in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml migrate
sqlite3 "$root/var/lib/gosdom/gosdom.db" "INSERT INTO kv (key, value, updated_at) VALUES ('package-test', 'kept', 'now')"

step "upgrade to the second build"
check "dpkg -i of the new version succeeds" in_root dpkg -i "/tmp/$(basename "$deb2")"
check "the new version is installed" test "$(in_root dpkg-query -W -f='${Version}' gosdom)" = "${version}-2"
check "the data is kept" test "$(sqlite3 "$root/var/lib/gosdom/gosdom.db" "SELECT value FROM kv WHERE key = 'package-test'")" = "kept"
check "the edited config is kept" grep -q 'dom.example.ru' "$root/etc/gosdom/config.toml"
check "the upgraded binary opens the data" in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml migrate
in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml backup /var/lib/gosdom/restore-test.db >/dev/null
check "the backup has the data" test "$(sqlite3 "$root/var/lib/gosdom/restore-test.db" "SELECT value FROM kv WHERE key = 'package-test'")" = "kept"
# Restore as docs/operations.md says: the service stopped, the copy put in place.
sqlite3 "$root/var/lib/gosdom/gosdom.db" "INSERT INTO kv (key, value, updated_at) VALUES ('after-backup', 'x', 'now')"
in_root runuser -u gosdom -- cp /var/lib/gosdom/restore-test.db /var/lib/gosdom/gosdom.db
rm -f "$root/var/lib/gosdom/gosdom.db-wal" "$root/var/lib/gosdom/gosdom.db-shm"
check "the restored database opens" in_root runuser -u gosdom -- gosdom --config /etc/gosdom/config.toml migrate
check "the restore brought back the backup's state" test "$(sqlite3 "$root/var/lib/gosdom/gosdom.db" "SELECT COUNT(*) FROM kv WHERE key IN ('package-test', 'after-backup')")" = "1"

step "purge"
check "dpkg --purge succeeds" in_root dpkg --purge gosdom
check "the binary is gone" test ! -e "$root/usr/bin/gosdom"
check "the config is gone" test ! -e "$root/etc/gosdom"
check "the data is gone" test ! -e "$root/var/lib/gosdom"

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
