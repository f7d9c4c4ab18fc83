#!/usr/bin/env bash
# Checks the README's editor instructions with Taplo itself (the TOML language
# server behind Even Better TOML), through its command line from npm
# (@taplo/cli): the shipped configs pass the schema `medee schema` prints, both
# with a `#:schema` directive and with a taplo.toml rule, and a config with an
# unknown key or a value of the wrong type fails. Needs node and npm; not run
# by CI.
#
#   cargo build && benches/taplo_schema.sh [path/to/medee]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/debug/medee}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

npm install --prefix "$work/npm" --no-audit --no-fund --silent @taplo/cli@0.7.0
taplo=$work/npm/node_modules/.bin/taplo
mkdir -p "$work/project/config"
cd "$work/project"
cp "$root"/config/*.toml config/
"$bin" schema > config/medee.schema.json

failures=0
# expect PASS|FAIL WHAT FILE...: taplo check on FILEs passes or fails as wanted.
expect() {
  local want=$1 what=$2 got
  shift 2
  if "$taplo" check "$@" >/dev/null 2>&1; then got=PASS; else got=FAIL; fi
  echo "$got (want $want): $what"
  [ "$got" = "$want" ] || failures=$((failures + 1))
}
broken() { # the shipped config plus an unknown key and a string where a count goes
  cat config/medee.toml
  printf '\n[[source]]\nid = "x"\nurl = "https://x.mn/"\nitme = "li"\n'
  printf '\n[[feed]]\nname = "f"\nmax_items = "10"\n'
}

mkdir directive
for f in medee.toml medee.service.toml; do
  { echo '#:schema ../config/medee.schema.json'; cat "config/$f"; } > "directive/$f"
done
{ echo '#:schema ../config/medee.schema.json'; broken; } > directive/broken.toml
expect PASS "shipped configs, #:schema directive" directive/medee.toml directive/medee.service.toml
expect FAIL "unknown key and wrong type, #:schema directive" directive/broken.toml

broken > config/broken.toml
expect PASS "no schema associated: only TOML syntax is checked" config/broken.toml
printf '[[rule]]\ninclude = ["config/*.toml"]\n\n[rule.schema]\npath = "./config/medee.schema.json"\n' > taplo.toml
expect PASS "shipped configs, taplo.toml rule" config/medee.toml config/medee.service.toml
expect FAIL "unknown key and wrong type, taplo.toml rule" config/broken.toml
"$taplo" check config/broken.toml 2>&1 | grep -E '^error' | sort -u | sed 's/^/  taplo says: /' || true

echo "$failures unexpected result(s)"
[ "$failures" -eq 0 ]
