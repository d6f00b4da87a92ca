#!/usr/bin/env bash
# Vendor the browser builds of Vega, Vega-Lite and vega-embed (with the CSP-compliant
# vega-interpreter, which vega-embed bundles) into the app's static files.
#
#   scripts/vendor_vega.sh            download, verify, copy into the static directory
#   scripts/vendor_vega.sh --check    download and verify only; compare with the copies
#
# Reproducible: exact versions, each tarball checked against the sha512 integrity pinned
# below *and* the one the npm registry publishes, and against a digest computed here. To
# update, see src/tiplab_web/core/static/vendor/vega/README.md.
set -euo pipefail

# name@version  sha512 integrity (from `npm view <name>@<version> dist.integrity`)
PACKAGES=(
  "vega@6.4.0 sha512-rHXCq2LpEWCLMjXBEj7hocY9G0/i5TGYRayGGSj06VTF4+l2IG2Z7oeZKCjWbUh/7hTE/mVhbaOPB72wCElh6g=="
  "vega-lite@6.4.3 sha512-d/7hPjfz560UERaQuTmGgIVfXAe3g2hJWeC+igDeaGohUdEoNrHLXgR/yTOBT8vV/lIuuKnw+0/xWWblkDwkMQ=="
  "vega-embed@7.3.0 sha512-wQ8s5GaSzqoKgmRfbRolgBrjE2CP7ZKHXqH7NijxMqPjpdWxSs4Dn8tvp9g0giQvh2cK+3p56sxjWWM0wNngGw=="
  "vega-interpreter@2.3.2 sha512-JDAoi3taFcCDLujZG84TNNUXdkAZ5WsSHssx8lWVYaxb9Slsjk7v7PtRIYXpSlUwLaKGRBqoJ9KDs36Z0eMEIw=="
)
# Bundled inside vega-embed.min.js (their licence texts travel with it); the versions are
# the ones vega-embed 7.3.0 declares.
BUNDLED=(
  "vega-tooltip@1.1.0 sha512-PP4CxC8gX//SBUtlcJkwffmvdZBvzAsqS0EANBKvImJ9PxV/KtJkcs7RCqp+A7nh2cjWdVzyOBWAvqKhXJStTQ=="
  "vega-themes@3.0.0 sha512-1iFiI3BNmW9FrsLnDLx0ZKEddsCitRY3XmUAwp6qmp+p+IXyJYc9pfjlVj9E6KXBPfm4cQyU++s0smKNiWzO4g=="
  "vega-schema-url-parser@3.0.2 sha512-xAnR7KAvNPYewI3O0l5QGdT8Tv0+GCZQjqfP39cW/hbe/b3aYMAQ39vm8O2wfXUHzm04xTe7nolcsx8WQNVLRQ=="
  "fast-json-patch@3.1.1 sha512-vf6IHUX2SBcA+5/+4883dsIjpBTqmfBjmYiWK1savxQmFk4JfBMLa7ynTYOs1Rolp/T1betJxHiGD3g1Mn8lUQ=="
  "json-stringify-pretty-compact@4.0.0 sha512-3CNZ2DnrpByG9Nqj6Xo8vqbjT4F6N+tb4Gb28ESAZjYZ5yqvmc56J+/kuIwkaAMOyblTQhUW7PxMkUb8Q36N3Q=="
  "semver@7.8.5 sha512-Y7/KDsb8LjooZpwaqGyulO6DQlksgCncchHGk+sZIY4SBvUocMBEFH5Ur1fI4dV+Jvl0w6cjvucaIi40puRioA=="
  "tslib@2.8.1 sha512-oJFu94HQb+KVduSUQL7wnpmqnfmLsOA/nAh6b6EH0wCEoK0/mPeXU6c3wKDV83MkOuHPRHtSXKKU99IBazS/2w=="
)
# package -> files of its tarball copied as they are (paths inside package/build/)
declare -A BUILDS=(
  [vega]="vega.min.js"
  [vega-lite]="vega-lite.min.js vega-lite.min.js.map"
  [vega-embed]="vega-embed.min.js vega-embed.min.js.map"
  [vega-interpreter]=""
)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/tiplab_web/core/static/vendor/vega"
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

die() { echo "vendor_vega: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm is needed (Node 20+): apt-get install -y nodejs npm"
command -v openssl >/dev/null || die "openssl is needed to check the tarballs' digests"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

specs=()
for entry in "${PACKAGES[@]}" "${BUNDLED[@]}"; do specs+=("${entry%% *}"); done
# --ignore-scripts: packing runs no package code; the cache is private to this run
npm pack --silent --ignore-scripts --cache "$WORK/npm-cache" --pack-destination "$WORK" \
  "${specs[@]}" >/dev/null

verify() {  # name@version expected-integrity -> extracted package directory on stdout
  local spec="$1" expected="$2" name version tarball computed published
  name="${spec%@*}"; version="${spec##*@}"
  tarball="$WORK/${name}-${version}.tgz"
  [[ -f "$tarball" ]] || die "$spec: npm pack made no $tarball"
  computed="sha512-$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
  published="$(npm view --cache "$WORK/npm-cache" "$spec" dist.integrity)"
  [[ "$computed" == "$expected" ]] || die "$spec: tarball digest $computed is not the pinned $expected"
  [[ "$published" == "$expected" ]] || die "$spec: the registry publishes $published, pinned $expected"
  mkdir -p "$WORK/x/$name"
  tar xzf "$tarball" -C "$WORK/x/$name"
  local got
  got="$(node -p "require('$WORK/x/$name/package/package.json').version")"
  [[ "$got" == "$version" ]] || die "$spec: package.json says version $got"
  echo "$WORK/x/$name/package"
}

declare -A DIRS=()
for entry in "${PACKAGES[@]}" "${BUNDLED[@]}"; do
  spec="${entry%% *}"; name="${spec%@*}"
  DIRS[$name]="$(verify "$spec" "${entry##* }")"
  echo "ok  $spec  ${entry##* }"
done

# vega-embed must bundle the interpreter we pin (its npm build is an ES module importing
# 'vega-util' by bare name, which a browser cannot load without an inline import map, and
# the CSP forbids inline scripts): check the declared range and the code being there.
node -e "
const d = require('${DIRS[vega-embed]}/package.json').dependencies;
if (d['vega-interpreter'] !== '^2.3.2') { console.error('vega-embed declares vega-interpreter ' + d['vega-interpreter']); process.exit(1); }
" || die "vega-embed's vega-interpreter dependency changed: review the pins"
grep -q "Prevented interpretation of member" "${DIRS[vega-embed]}/build/vega-embed.min.js" \
  || die "vega-embed.min.js does not bundle vega-interpreter"
grep -q "Prevented interpretation of member" "${DIRS[vega-interpreter]}/build/vega-interpreter.js" \
  || die "vega-interpreter changed its messages: review the bundling check"
# the spec Altair writes names Vega-Lite v6.4: the browser build must be a 6.4.x
grep -q 'var n="6.4.' "${DIRS[vega-lite]}/build/vega-lite.min.js" \
  || die "vega-lite.min.js is not a 6.4.x build"

STAGE="$WORK/out"
mkdir -p "$STAGE"
for name in "${!BUILDS[@]}"; do
  for f in ${BUILDS[$name]}; do cp "${DIRS[$name]}/build/$f" "$STAGE/$f"; done
done
for name in "${!DIRS[@]}"; do
  lic="$(ls "${DIRS[$name]}" | grep -i -m1 -E '^(license|licence)(\.txt|\.md)?$' || true)"
  [[ -n "$lic" ]] || die "$name: no LICENSE file in its tarball"
  cp "${DIRS[$name]}/$lic" "$STAGE/LICENSE.$name"
done
(cd "$STAGE" && sha256sum -- *.js *.map LICENSE.* | LC_ALL=C sort -k2 > SHA256SUMS)

if [[ $CHECK_ONLY == 1 ]]; then
  (cd "$DEST" && sha256sum -c --quiet "$STAGE/SHA256SUMS") \
    || die "the vendored files differ from the registry's: run scripts/vendor_vega.sh"
  cmp -s "$STAGE/SHA256SUMS" "$DEST/SHA256SUMS" || die "$DEST/SHA256SUMS is out of date"
  echo "vendored files match the registry tarballs"
  exit 0
fi
mkdir -p "$DEST"
# README.md is written by hand; everything else in $DEST comes from the tarballs
find "$DEST" -maxdepth 1 -type f ! -name README.md -delete
cp "$STAGE"/* "$DEST"/
echo "copied into $DEST:"
(cd "$DEST" && ls -l)
