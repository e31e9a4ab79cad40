#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or reuse) the guests' base initramfs for a kernel directory of kernel.sh; print its path.
#
# Usage: initramfs.sh KERNEL_DIR
# The base holds busybox, the tools of tools.list with their shared libraries, the libraries the
# faultline binary needs (not the binary: each guest appends its own), the modules of
# modules.list with their dependencies, the kernel's config as /boot/config-KVER, and /init.
# It is rebuilt when any input changes: these scripts and lists, the kernel, an installed package
# (dpkg's status file), a listed tool, or the set of libraries faultline links.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KDIR="${1:?usage: initramfs.sh KERNEL_DIR}"
FAULTLINE="${VM_FAULTLINE:-${VM_ROOT}/build/faultline}"
BUSYBOX=/bin/busybox

# Lines of a list file without comments and blank lines.
list() {
	sed 's/#.*//; s/[[:space:]]*$//; /^$/d' "$1"
}

# The shared libraries (and the ELF interpreter) files need, one path a line.
libs_of() {
	local out
	out="$(LC_ALL=C ldd "$@" 2>&1)" || true
	if grep -q 'not found' <<<"$out"; then
		vm_die "missing shared libraries:" \
			"$(grep -B50 'not found' <<<"$out" | tr -s '\t\n' '  ')"
	fi
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' <<<"$out" | sort -u
}

# What the base depends on, one line each: the base is rebuilt when this changes.
inputs() {
	local t
	echo "kernel $(cat "${KDIR}/label")"
	(cd "$VM_DIR" && sha256sum lib.sh initramfs.sh init modules.list tools.list)
	stat -Lc '%n %s %Y' "$BUSYBOX" /var/lib/dpkg/status 2>/dev/null || true
	echo "ld.so.cache $([ "$(id -u)" = 0 ] && echo yes || echo no: not root)"
	for t in $(list "${VM_DIR}/tools.list"); do
		if [ -d "$t" ]; then
			find "$t" -printf '%p %s %T@ %l\n'
		else
			printf '%s -> ' "$t"
			stat -Lc '%n %s %Y' "$(readlink -f "$t")" 2>/dev/null || echo missing
		fi
	done
	libs_of "$FAULTLINE"
}

# put PATH: copy a host file to the same path under $STAGE; a symlink becomes a link to the file
# it resolves to. ELF files are noted for the library pass.
put() {
	local src="$1" dst real
	dst="${STAGE}${src}"
	[ -e "$dst" ] || [ -L "$dst" ] && return 0
	[ -e "$src" ] || vm_die "'${src}' (tools.list) is not on this host: run 'make deps'"
	mkdir -p "$(dirname "$dst")"
	if [ -L "$src" ]; then
		real="$(readlink -f "$src")"
		put "$real"
		ln -s "$real" "$dst"
	elif [ -d "$src" ]; then
		cp -a "$src" "$dst"
		find "$dst" -type f | while read -r f; do
			if is_elf "$f"; then printf '%s\n' "${f#"${STAGE}"}"; fi
		done >>"${STAGE}.elf"
	else
		cp -L --preserve=mode,timestamps "$src" "$dst"
		if is_elf "$dst"; then printf '%s\n' "$src" >>"${STAGE}.elf"; fi
	fi
}

is_elf() {
	[ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# The modules of modules.list and what they depend on, dependencies first, as paths relative to
# the modules directory; built-in modules are left out, unknown ones reported.
module_order() {
	list "${VM_DIR}/modules.list" | awk -v index_file="${KDIR}/modules.index" \
		-v builtin_file="${KDIR}/modules.builtin" '
		BEGIN {
			FS = "\t"
			while ((getline l < index_file) > 0) {
				split(l, f, "\t"); path[f[1]] = f[2]; deps[f[1]] = f[3]
			}
			while ((getline l < builtin_file) > 0) builtin[l] = 1
		}
		function visit(m,    d, n, i) {
			gsub(/-/, "_", m)
			if (m in done) return
			done[m] = 1
			if (m in builtin) return
			if (!(m in path)) {
				print "module \047" m "\047 is not in this kernel, skipped" \
					>"/dev/stderr"
				return
			}
			n = split(deps[m], d, ",")
			for (i = 1; i <= n; i++) if (d[i] != "") visit(d[i])
			sub(/^\.\//, "", path[m])
			print path[m]
		}
		{ visit($1) }'
}

build() {
	local out="$1" kver moddir m rel busybox_links name dir elf
	kver="$(cat "${KDIR}/kver")"
	moddir="$(cat "${KDIR}/moddir")"
	vm_tmpdir STAGE
	STAGE="${STAGE}/root"

	# a merged-/usr layout like the host's, so every host path can be copied as it is
	mkdir -p "${STAGE}"/usr/{bin,sbin,lib,lib64} "${STAGE}"/{dev,proc,sys,run,tmp,root,mnt,fl} \
		"${STAGE}"/etc/fl-vm "${STAGE}"/var/{lib,tmp} "${STAGE}/boot"
	for dir in bin sbin lib lib64; do ln -s "usr/${dir}" "${STAGE}/${dir}"; done
	ln -s ../run "${STAGE}/var/run"
	: >"${STAGE}.elf"

	vm_msg "base initramfs: tools and their libraries"
	for m in $(list "${VM_DIR}/tools.list"); do put "$m"; done
	mapfile -t elf < <(sed "s|^|${STAGE}|" "${STAGE}.elf")
	for m in $(libs_of "${elf[@]}" "$FAULTLINE"); do put "$m"; done

	# busybox for everything else, without hiding a real tool of the same name
	cp "$BUSYBOX" "${STAGE}/usr/bin/busybox"
	busybox_links=0
	for m in $("$BUSYBOX" --list-full); do
		name="${m##*/}"
		case "$m" in
		sbin/* | usr/sbin/*) dir=usr/sbin ;;
		*) dir=usr/bin ;;
		esac
		[ -e "${STAGE}/usr/bin/${name}" ] || [ -e "${STAGE}/usr/sbin/${name}" ] && continue
		ln -s /usr/bin/busybox "${STAGE}/${dir}/${name}"
		busybox_links=$((busybox_links + 1))
	done

	vm_msg "base initramfs: modules of ${kver}"
	: >"${STAGE}/etc/fl-vm/modules"
	for rel in $(module_order); do
		mkdir -p "$(dirname "${STAGE}/lib/modules/${kver}/${rel}")"
		case "$rel" in
		*.ko.xz) xz -dc "${moddir}/${rel}" ;;
		*.ko.zst) zstd -dcq "${moddir}/${rel}" ;;
		*.ko.gz) gzip -dc "${moddir}/${rel}" ;;
		*) cat "${moddir}/${rel}" ;;
		esac >"${STAGE}/lib/modules/${kver}/${rel%.ko*}.ko" ||
			vm_die "cannot copy module '${moddir}/${rel}'"
		printf '%s\n' "${rel%.ko*}.ko" >>"${STAGE}/etc/fl-vm/modules"
	done
	[ ! -r "${KDIR}/config" ] || cp "${KDIR}/config" "${STAGE}/boot/config-${kver}"

	install -m 0755 "${VM_DIR}/init" "${STAGE}/init"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' \
		'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"${STAGE}/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"${STAGE}/etc/group"
	printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' \
		'127.0.1.1 fl-vm' >"${STAGE}/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"${STAGE}/etc/nsswitch.conf"
	# without a cache the loader probes every library directory (and its hwcaps subdirectories)
	# for each library, one failed open after another: bash starts in 0.5 s instead of ~0.05 s
	printf '%s\n' /usr/local/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu \
		>"${STAGE}/etc/ld.so.conf"
	if [ "$(id -u)" = 0 ]; then
		ldconfig -X -r "$STAGE" || vm_die "ldconfig -r '${STAGE}' failed"
	fi
	echo fl-vm >"${STAGE}/etc/hostname"
	: >"${STAGE}/etc/resolv.conf"

	# newc, owned by root (setuid fusermount3 stays setuid root), padded so that the archive
	# appended to it starts on a 4-byte boundary, or the kernel silently ignores that one
	(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		>"${out}.tmp"
	pad4 "${out}.tmp"
	mv "${out}.tmp" "$out"
	vm_msg "base initramfs: $(($(stat -c %s "$out") / 1048576)) MiB," \
		"$(wc -l <"${STAGE}/etc/fl-vm/modules") modules, ${busybox_links} busybox applets"
}

pad4() {
	local size
	size="$(stat -c %s "$1")"
	if [ $((size % 4)) -ne 0 ]; then
		head -c $((4 - size % 4)) /dev/zero >>"$1"
	fi
}

main() {
	local label out tmp
	vm_need cpio ldd cmp diff flock
	[ -x "$BUSYBOX" ] || vm_die "no ${BUSYBOX}: install busybox-static ('make deps')"
	ldd "$BUSYBOX" >/dev/null 2>&1 && vm_die "${BUSYBOX} is not static: install busybox-static"
	[ -x "$FAULTLINE" ] || vm_die "no faultline binary at '${FAULTLINE}': run 'make' first"
	[ -r "${KDIR}/ready" ] || vm_die "'${KDIR}' is not a kernel directory made by kernel.sh"

	label="$(cat "${KDIR}/label")"
	out="${VM_CACHE}/base/${label}.cpio"
	mkdir -p "${VM_CACHE}/base"
	vm_lock "base-${label}"
	vm_tmpdir tmp
	inputs >"${tmp}/inputs"
	if [ -r "$out" ] && cmp -s "${tmp}/inputs" "${out}.inputs"; then
		printf '%s\n' "$out"
		return 0
	fi
	if [ -r "${out}.inputs" ]; then
		{ diff "${out}.inputs" "${tmp}/inputs" || true; } | grep '^[<>]' | head -4 |
			tr '\n' ' ' >"${tmp}/diff"
		vm_msg "base initramfs: rebuilding, its inputs changed: $(cat "${tmp}/diff")"
	fi
	rm -f "$out" "${out}.inputs"
	build "$out"
	cp "${tmp}/inputs" "${out}.inputs"
	printf '%s\n' "$out"
}

main "$@"
