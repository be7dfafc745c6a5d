#!/usr/bin/env bash
# Builds the stand-in for the runtime stage's base image (debian:SUITE-slim, which cannot be
# pulled here) and writes it as a tarball:
#
#   scripts/check-image/base_rootfs.sh SUITE ARCH MIRROR SECURITY_MIRROR WORK_DIR OUT_TAR
#
# A `debootstrap --variant=minbase` root file system from MIRROR, trimmed the way the slim image
# is. Needs root and debootstrap; WORK_DIR holds the root file system and the debootstrap log
# while it runs. Called by scripts/check-image.sh.
set -euo pipefail
[[ $# -eq 6 ]] || { echo "usage: $0 SUITE ARCH MIRROR SECURITY_MIRROR WORK_DIR OUT_TAR" >&2; exit 2; }
SUITE=$1 arch=$2 mirror=$3 security=$4 work=$5 base_tar=$6
rootfs="$work/rootfs"
log="$work/debootstrap.log"

debootstrap --variant=minbase --arch="$arch" "$SUITE" "$rootfs" "$mirror" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; echo "error: debootstrap failed (log above)" >&2; exit 1; }
# Like debian:bookworm-slim: deb822 sources (with updates and security), no documentation,
# manuals or translations, no apt caches, lists or logs, no host name or resolver.
rm -f "$rootfs/etc/apt/sources.list" "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
{
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' "$mirror" "$SUITE" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n "$security" ]]; then
        printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$security" "$SUITE"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,info,groff,lintian,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
find "$rootfs/var/log" -type f -delete
mkdir -p "$(dirname "$base_tar")"
tar --numeric-owner --xattrs -C "$rootfs" -cf "$base_tar.partial" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' .
mv "$base_tar.partial" "$base_tar"
rm -rf --one-file-system "$rootfs"
