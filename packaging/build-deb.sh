#!/usr/bin/env bash
# Builds the Debian package of medee (target/debian/medee_*.deb) with cargo-deb
# and lists its contents. Not run by CI: a release build takes minutes.
#
#   packaging/build-deb.sh [cargo-deb options, e.g. --target x86_64-unknown-linux-gnu]
#
# cargo-deb reads [package.metadata.deb] in Cargo.toml. The assets it names
# under target/deb-assets/ are generated here from the release binary, so the
# man page, completions and schema always match the packaged medee, and the
# unit is systemd/medee.service with ExecStart at the packaged /usr/bin/medee.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --locked
fi

cargo build --release --locked
bin=target/release/medee
assets=target/deb-assets
rm -rf "$assets"
mkdir -p "$assets"
"$bin" man | gzip -9n > "$assets/medee.1.gz"
"$bin" completions bash > "$assets/medee.bash"
"$bin" completions zsh > "$assets/_medee"
"$bin" completions fish > "$assets/medee.fish"
"$bin" schema > "$assets/medee.schema.json"
sed 's#^ExecStart=/usr/local/bin/medee #ExecStart=/usr/bin/medee #' systemd/medee.service > "$assets/medee.service"
grep -q '^ExecStart=/usr/bin/medee ' "$assets/medee.service" \
  || { echo "systemd/medee.service: ExecStart no longer starts /usr/local/bin/medee; update $0" >&2; exit 1; }

deb=$(cargo deb --no-build "$@" | tail -n 1)
echo "built $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends
dpkg-deb --contents "$deb"
