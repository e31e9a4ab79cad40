#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Get the guest kernel (a Debian package by default) into the cache and print its directory.
#
# The directory holds: vmlinux (uncompressed ELF, fast to boot under TCG), kver, label, config
# (when known), moddir (path of the lib/modules/KVER tree to take modules from, never written)
# and modules.index (one "name<TAB>path<TAB>dep,dep" line per module) plus modules.builtin.
#
# Which kernel (first that is set):
#   VM_VMLINUX=FILE VM_MODULES=DIR [VM_KCONFIG=FILE]  a vmlinux (or vmlinuz) and its
#                                                     lib/modules/KVER directory
#   VM_KERNEL_PKG=FILE.deb                            a local kernel package
#   VM_KERNEL_PKG=NAME                                a package fetched with `apt-get download`
#   (nothing)                                         what `linux-image-amd64` depends on
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Decompress the kernel image inside a bzImage, the way the kernel's scripts/extract-vmlinux
# does: find each compression format's magic bytes, decompress from there, keep the first ELF.
extract_vmlinux() {
	local in="$1" out="$2" magic cmd off
	if is_elf "$in"; then
		cp "$in" "$out"
		return 0
	fi
	while read -r magic cmd; do
		command -v "${cmd%% *}" >/dev/null 2>&1 || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1 | head -20); do
			tail -c "+$((off + 1))" "$in" | $cmd >"$out" 2>/dev/null || true
			is_elf "$out" && return 0
		done
	done <<-'EOF'
		\xfd\x37\x7a\x58\x5a\x00 xz -dc --single-stream
		\x28\xb5\x2f\xfd zstd -dcq
		\x1f\x8b\x08 gzip -dc
		\x02\x21\x4c\x18 lz4 -dcq
		\x5d\x00\x00\x00 xz -dc --format=lzma
		BZh bzip2 -dcq
		\x89\x4c\x5a lzop -dcq
	EOF
	rm -f "$out"
	return 1
}

is_elf() {
	[ -s "$1" ] && [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# The version string the image carries ("Linux version 6.1.0-56-amd64 ...").
vmlinux_release() {
	LC_ALL=C grep -a -m1 -o 'Linux version [^ ]*' "$1" | head -1 | cut -d' ' -f3
}

# modules.index from modules.dep when the tree has one, else from each module's modinfo.
index_modules() {
	local moddir="$1" out="$2" f d re
	if [ -s "${moddir}/modules.dep" ]; then
		awk -F': *' '
			function name(p) {
				sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub(/-/, "_", p)
				return p
			}
			{ n = split($2, d, " "); deps = ""
			  for (i = 1; i <= n; i++) deps = deps (i > 1 ? "," : "") name(d[i])
			  printf "%s\t%s\t%s\n", name($1), $1, deps }' "${moddir}/modules.dep" \
			>"$out"
	else
		# Debian leaves modules.dep to depmod at install time: read each modinfo instead
		(
			cd "$moddir"
			re='depends=[A-Za-z0-9_,-]*'
			find . -name '*.ko' -print0 | xargs -0 -r grep -a -o -H "$re"
			find . -name '*.ko.*' | while read -r f; do
				d="$(decompress "$f" 2>/dev/null | grep -a -o -m1 "$re")" || true
				printf '%s:%s\n' "$f" "${d:-depends=}"
			done
		) | awk -F: '
			{ p = $1; d = $2; sub(/^depends=/, "", d); n = p; sub(/.*\//, "", n)
			  sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); gsub(/-/, "_", d)
			  if (!(n in seen)) printf "%s\t%s\t%s\n", n, p, d; seen[n] = 1 }' >"$out"
	fi
	[ -s "$out" ] || vm_die "no kernel modules found under '${moddir}'"
	if [ -r "${moddir}/modules.builtin" ]; then
		sed 's|.*/||; s|\.ko.*$||; s|-|_|g' "${moddir}/modules.builtin" \
			>"${out%/*}/modules.builtin"
	else
		: >"${out%/*}/modules.builtin"
	fi
}

decompress() {
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -dcq "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# The package `linux-image-amd64` depends on, and the version it pins when it does:
# "linux-image-6.1.0-56-amd64 6.1.192-2". (One apt-cache call: each takes over a second.)
default_package() {
	local dep
	# from "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
	dep="$(apt_show linux-image-amd64 | sed -n 's/^Depends: //p' | sed 's/[,|]/\n/g' |
		sed -n 's/^ *\(linux-image-[^ ]*\)\( *(= *\([^)]*\))\)\{0,1\}.*/\1 \3/p' |
		head -1)" || true
	[ -n "$dep" ] || vm_die "cannot tell which kernel 'linux-image-amd64' depends on" \
		"(apt-cache show linux-image-amd64 found nothing: run 'apt-get update')"
	printf '%s\n' "$dep"
}

# apt-cache show for the candidate version; refreshes the package lists once if they are empty,
# as they are on a fresh machine.
APT_UPDATED=0
apt_show() {
	local out
	if out="$(apt-cache show --no-all-versions "$1" 2>/dev/null)" && [ -n "$out" ]; then
		printf '%s\n' "$out"
		return 0
	fi
	if [ "$APT_UPDATED" = 0 ] && [ "$(id -u)" = 0 ]; then
		APT_UPDATED=1
		vm_msg "package '$1' unknown to apt: running apt-get update"
		apt-get update -qq >&2 || vm_die "apt-get update failed"
		apt_show "$1"
		return
	fi
	return 1
}

# finish_kernel DIR VMLINUX_OR_VMLINUZ MODDIR KVER CONFIG LABEL: fill a kernel directory.
finish_kernel() {
	local dir="$1" image="$2" moddir="$3" kver="$4" config="$5" label="$6" release
	vm_msg "extracting vmlinux from '${image}'"
	extract_vmlinux "$image" "${dir}/vmlinux" ||
		vm_die "'${image}': no compressed vmlinux found in it" \
			"(tried xz, zstd, gzip, lz4, lzma, bzip2, lzo)"
	release="$(vmlinux_release "${dir}/vmlinux")"
	[ "$release" = "$kver" ] ||
		vm_die "the kernel is '${release:-unknown}'" \
			"but the modules are for '${kver}' ('${moddir}')"
	vm_msg "indexing the modules of ${kver}"
	index_modules "$moddir" "${dir}/modules.index"
	printf '%s\n' "$kver" >"${dir}/kver"
	printf '%s\n' "$label" >"${dir}/label"
	printf '%s\n' "$moddir" >"${dir}/moddir"
	if [ -n "$config" ] && [ -r "$config" ]; then
		cp "$config" "${dir}/config"
	fi
}

# A kernel from a package: download (unless a .deb file is given), unpack, keep what we need.
kernel_from_package() {
	local pkg="${VM_KERNEL_PKG:-}" ver deb label dir tmp images image moddir kver old default=0
	[ -n "$pkg" ] || default=1
	if [ -n "$pkg" ] && [ "${pkg%.deb}" != "$pkg" ]; then
		[ -r "$pkg" ] || vm_die "VM_KERNEL_PKG: cannot read '${pkg}'"
		deb="$(cd "$(dirname "$pkg")" && pwd)/$(basename "$pkg")"
		label="$(basename "$pkg" .deb)"
	else
		ver=
		if [ -z "$pkg" ]; then
			pkg="$(default_package)"
			read -r pkg ver <<<"$pkg"
		fi
		if [ -z "$ver" ]; then
			ver="$(apt_show "$pkg" | sed -n 's/^Version: //p' | head -1)" || true
			[ -n "$ver" ] ||
				vm_die "package '${pkg}' is unknown to apt" \
					"(apt-cache show '${pkg}' found nothing)"
		fi
		label="${pkg}_${ver}"
		deb=
	fi
	label="$(printf '%s' "$label" | tr -c 'A-Za-z0-9._+-' '_')"
	dir="${VM_CACHE}/kernels/${label}"
	if [ -e "${dir}/ready" ]; then
		printf '%s\n' "$dir"
		return 0
	fi

	vm_tmpdir tmp "${VM_CACHE}/kernels"
	if [ -z "$deb" ]; then
		vm_need apt-get
		vm_msg "downloading ${pkg} ${ver} with apt-get download"
		local sandbox=()
		[ "$(id -u)" != 0 ] || sandbox=(-o APT::Sandbox::User=root)
		(cd "$tmp" && apt-get download -q "${sandbox[@]}" "${pkg}=${ver}" >&2) ||
			vm_die "apt-get download '${pkg}=${ver}' failed"
		images=("$tmp"/*.deb)
		deb="${images[0]}"
	fi
	vm_msg "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "${tmp}/root" || vm_die "dpkg-deb cannot unpack '${deb}'"
	images=("${tmp}"/root/boot/vmlinuz-*)
	image="${images[0]}"
	[ -e "$image" ] ||
		vm_die "'$(basename "$deb")' has no boot/vmlinuz-*: not a kernel image package"
	kver="${image##*/vmlinuz-}"
	for moddir in "${tmp}/root/lib/modules/${kver}" "${tmp}/root/usr/lib/modules/${kver}" ""; do
		[ -z "$moddir" ] || [ -d "$moddir" ] && break
	done
	[ -n "$moddir" ] || vm_die "'$(basename "$deb")' has no lib/modules/${kver}"

	mkdir -p "${tmp}/kernel"
	mv "$moddir" "${tmp}/kernel/modules"
	finish_kernel "${tmp}/kernel" "$image" "${tmp}/kernel/modules" "$kver" \
		"${tmp}/root/boot/config-${kver}" "$label"
	# the modules tree moved: its path must name where it will live
	printf '%s\n' "${dir}/modules" >"${tmp}/kernel/moddir"
	touch "${tmp}/kernel/ready"
	rm -rf "$dir"
	mv "${tmp}/kernel" "$dir"
	# Debian moved on to a new kernel: the default ones before it are of no more use (400 MB)
	if [ "$default" = 1 ]; then
		for old in "${VM_CACHE}"/kernels/*/default; do
			[ -e "$old" ] || continue
			old="$(basename "$(dirname "$old")")"
			vm_msg "removing the previous default kernel ${old} from the cache"
			rm -rf "${VM_CACHE}/kernels/${old}" "${VM_CACHE}/base/${old}.cpio" \
				"${VM_CACHE}/base/${old}.cpio.inputs"
		done
		touch "${dir}/default"
	fi
	printf '%s\n' "$dir"
}

# A kernel given as files: nothing is copied from VM_MODULES, only indexed.
kernel_from_files() {
	local image moddir config label dir tmp
	[ -n "${VM_MODULES:-}" ] ||
		vm_die "VM_VMLINUX needs VM_MODULES (the lib/modules/KVER directory)"
	[ -r "$VM_VMLINUX" ] || vm_die "VM_VMLINUX: cannot read '${VM_VMLINUX}'"
	[ -d "$VM_MODULES" ] || vm_die "VM_MODULES: '${VM_MODULES}' is not a directory"
	image="$(cd "$(dirname "$VM_VMLINUX")" && pwd)/$(basename "$VM_VMLINUX")"
	moddir="$(cd "$VM_MODULES" && pwd)"
	config="${VM_KCONFIG:-}"
	[ -z "$config" ] || [ -r "$config" ] || vm_die "VM_KCONFIG: cannot read '${config}'"
	label="custom-$(basename "$moddir")-$(
		{ stat -Lc '%n %s %Y' "$image" "$moddir" "$moddir/modules.dep" \
			${config:+"$config"} 2>/dev/null || true; } | vm_digest)"
	dir="${VM_CACHE}/kernels/${label}"
	if [ ! -e "${dir}/ready" ]; then
		vm_tmpdir tmp "${VM_CACHE}/kernels"
		finish_kernel "$tmp" "$image" "$moddir" "$(basename "$moddir")" "$config" "$label"
		touch "${tmp}/ready"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	printf '%s\n' "$dir"
}

main() {
	vm_need dpkg-deb grep od sha256sum flock
	vm_lock kernel
	if [ -n "${VM_VMLINUX:-}" ]; then
		kernel_from_files
	else
		[ -z "${VM_MODULES:-}" ] || vm_die "VM_MODULES needs VM_VMLINUX"
		kernel_from_package
	fi
}

main "$@"
