#!/usr/bin/env bash
# Build a real Debian image from Debian's own packages, once, for the image tests and the bench:
#   debootstrap --variant=minbase bookworm ROOT   (needs root and Debian's mirror)
#   → a rootfs layer tar → `docker import` → `docker save` (docker-archive)
#   → `skopeo copy docker-archive:… oci:…`       (OCI image layout directory)
# Output, in $STELLA_IMAGE_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/stella/ci-image):
#   rootfs.tar                  the debootstrap tree as one layer (numeric owners, sorted names)
#   bookworm.docker-save.tar    docker save of the imported image
#   bookworm.oci/               OCI image layout of the same image
#   READY                       written last: the cache is complete
# Re-running with READY present does nothing, so .ci/run can pre-run it and every test reuse it.
# Usage: scripts/build-ci-image.sh [--print-dir]
set -euo pipefail
CACHE="${STELLA_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stella/ci-image}"
MIRROR="${STELLA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
TAG="stella-ci-bookworm:minbase"
if [ "${1:-}" = "--print-dir" ]; then echo "$CACHE"; exit 0; fi
[ -f "$CACHE/READY" ] && { echo "$CACHE"; exit 0; }

for tool in debootstrap docker skopeo tar; do
  command -v "$tool" >/dev/null || { echo "build-ci-image: $tool is not installed (apt-get install debootstrap skopeo docker.io)" >&2; exit 1; }
done
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
[ -f "$CACHE/READY" ] && { echo "$CACHE"; exit 0; }

work="$CACHE/.work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "build-ci-image: debootstrap $SUITE from $MIRROR (minbase)" >&2
debootstrap --variant=minbase "$SUITE" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
# apt lists and caches are not part of what the image is; leave them out like the official images do.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar --sort=name --numeric-owner --mtime=@0 --xattrs-exclude='*' -C "$work/root" -cf "$work/rootfs.tar" .
docker rmi -f "$TAG" >/dev/null 2>&1 || true
docker import "$work/rootfs.tar" "$TAG" >/dev/null
docker save "$TAG" -o "$work/bookworm.docker-save.tar"
skopeo copy --quiet "docker-archive:$work/bookworm.docker-save.tar" "oci:$work/bookworm.oci:$SUITE"
docker rmi -f "$TAG" >/dev/null 2>&1 || true
mv "$work/rootfs.tar" "$work/bookworm.docker-save.tar" "$CACHE/"
rm -rf "$CACHE/bookworm.oci"
mv "$work/bookworm.oci" "$CACHE/"
date -u +%FT%TZ >"$CACHE/READY"
echo "$CACHE"
