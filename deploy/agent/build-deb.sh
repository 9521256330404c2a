#!/usr/bin/env bash
# Builds porthistory-agent_<version>_amd64.deb: the agent as a native (AOT) binary, its settings file and its hardened
# systemd unit. Needs the .NET SDK, clang and zlib1g-dev (the AOT compiler links with them), and dpkg-deb.
#
#   deploy/agent/build-deb.sh [version] [outdir]      version: a Debian version, default 0.0.0~dev; outdir: default artifacts/
#
# Prints the path of the .deb. Set PORTHISTORY_AGENT_BINARY to package an already published binary instead.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${1:-0.0.0~dev}"
outdir="${2:-$repo/artifacts}"
maintainer="${DEB_MAINTAINER:-PortHistory <porthistory@localhost>}"

if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
  echo "build-deb.sh: \"$version\" is not a Debian version (starts with a digit; letters, digits and . + ~ - only)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

binary="${PORTHISTORY_AGENT_BINARY:-}"
if [ -z "$binary" ]; then
  # Its own artifacts path: the publish neither reads nor disturbs the bin/ and obj/ folders of ordinary builds.
  dotnet publish "$repo/src/PortHistory.Agent" -c Release -p:NativeAgent=true -r linux-x64 \
    -p:InformationalVersion="$version" -p:IncludeSourceRevisionInInformationalVersion=false \
    --artifacts-path "$work/build" -o "$work/publish" -nologo -v quiet >&2
  binary="$work/publish/porthistory-agent"
fi

root="$work/root"
install -D -m 0755 "$binary" "$root/usr/bin/porthistory-agent"
install -D -m 0644 "$here/porthistory-agent.service" "$root/lib/systemd/system/porthistory-agent.service"
install -D -m 0644 "$here/agent.conf" "$root/etc/porthistory/agent.conf"
install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$here/debian/$script" "$root/DEBIAN/$script"; done
# Files under /etc are not conffiles unless listed: an administrator's edits must survive upgrades.
echo /etc/porthistory/agent.conf > "$root/DEBIAN/conffiles"

installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
# libc6: the binary's newest symbol version is GLIBC_2.34; libssl: https:// servers (loaded when first used).
cat > "$root/DEBIAN/control" <<CONTROL
Package: porthistory-agent
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: libc6 (>= 2.34), libssl3 | libssl3t64
Section: net
Priority: optional
Description: PortHistory fleet agent
 Reports which processes listen on which ports of this Linux host to a
 PortHistory server. A self-contained native binary with a hardened systemd
 unit; settings in /etc/porthistory/agent.conf.
CONTROL

mkdir -p "$outdir"
deb="$outdir/porthistory-agent_${version}_amd64.deb"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >&2
echo "$deb"
