#!/usr/bin/env bash
# plugin/musl-libs.sh OUT: builds the static libraries the plugin links
# against musl (jansson and libnl-3) into OUT/lib, with their headers and
# the kernel's UAPI headers under OUT/include.
#
# Why: the plugin is exec'd once per pod verb. glibc's static start-up
# probes the CPU with 41 cpuid instructions, each a trap to the hypervisor
# in a VM (~7 us here), and touches ~20 more pages than musl's, which runs
# none: ~0.7 ms of every invocation on the bench VM. Debian ships no musl builds of jansson or libnl-3, so
# they are built here from Debian's own source packages, at the version of
# the -dev packages installed (same code, other libc). Debian's patches
# only touch symbol versioning and config paths, which a static archive
# does not use, so the upstream tarball is built as it is.
#
# Needs (make deps): musl-tools, dpkg-dev, cmake, flex, bison and access to
# the deb-src side of the system's Debian mirror (derived from its apt
# sources; nothing in /etc is changed).
set -euo pipefail

out=$(realpath -m "${1:?usage: musl-libs.sh OUTDIR}")
apt_dir=$out/apt
src_dir=$out/src
jobs=$(nproc)

die() {
	echo "musl-libs: $*" >&2
	exit 1
}

check_tools() {
	local t
	for t in musl-gcc dpkg-source cmake flex bison apt-get; do
		command -v "$t" >/dev/null || die "$t is missing (run make deps)"
	done
}

# The kernel headers musl-gcc does not see (it leaves out /usr/include).
link_kernel_headers() {
	local arch
	arch=$(gcc -print-multiarch)
	mkdir -p "$out/include"
	ln -sfn /usr/include/linux "$out/include/linux"
	ln -sfn /usr/include/asm-generic "$out/include/asm-generic"
	ln -sfn "/usr/include/$arch/asm" "$out/include/asm"
}

# deb-src entries for every deb entry of the system's apt sources.
write_src_sources() {
	local f
	mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	: >"$apt_dir/sources/src.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] && sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" >>"$apt_dir/sources/src.list"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] && sed -E 's/^Types:.*/Types: deb-src/' "$f" >"$apt_dir/sources/$(basename "$f")"
	done
	return 0
}

apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$apt_dir/sources/src.list" \
		-o Dir::Etc::SourceParts="$apt_dir/sources" \
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

# fetch_source DEV_PACKAGE: unpacks the source package DEV_PACKAGE was
# built from, at its version, into $src_dir; prints the directory.
fetch_source() {
	local name version plain dir
	read -r name version < <(dpkg-query -W -f='${source:Package} ${source:Version}\n' "$1") ||
		die "$1 is not installed (run make deps)"
	plain=${version#*:}	# file names leave the epoch out
	dir=$src_dir/$name-${plain%-*}
	# apt checks the files against the signed Sources index; dpkg-source
	# then warns that it has no keyring for the .dsc's own signature.
	if [[ ! -d $dir ]]; then
		(cd "$src_dir" && apt_private source --download-only "$name=$version") \
			>>"$out/fetch.log" 2>&1 ||
			die "cannot download Debian's source of $name $version (see $out/fetch.log;" \
				"make VEILNET_LIBC=glibc builds the plugin without it)"
		rm -rf "$dir.part"
		dpkg-source --skip-patches -x "$src_dir/${name}_$plain.dsc" "$dir.part" \
			>>"$out/fetch.log" 2>&1 || die "cannot unpack $name $version (see $out/fetch.log)"
		mv "$dir.part" "$dir"
	fi
	echo "$dir"
}

build_jansson() {
	local dir=$1 log=$out/jansson.log
	{
		CC=musl-gcc cmake -S "$dir" -B "$dir/musl-build" -DCMAKE_BUILD_TYPE=Release \
			-DCMAKE_INSTALL_PREFIX="$out" -DCMAKE_INSTALL_LIBDIR=lib \
			-DJANSSON_BUILD_DOCS=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_EXAMPLES=OFF &&
			cmake --build "$dir/musl-build" -j "$jobs" &&
			cmake --install "$dir/musl-build"
	} >"$log" 2>&1 || die "building jansson failed (see $log)"
}

# Only the core library (libnl-3.a): the plugin builds its rtnetlink
# messages with it and sends them itself.
build_libnl() {
	local dir=$1 log=$out/libnl.log
	(cd "$dir" && CC=musl-gcc CFLAGS="-O2 -g -isystem $out/include" ./configure \
		--prefix="$out" --disable-shared --enable-static --disable-cli \
		--disable-pthreads --disable-debug &&
		make -j "$jobs" lib/libnl-3.la) >"$log" 2>&1 || die "building libnl-3 failed (see $log)"
	mkdir -p "$out/lib"
	cp "$dir/lib/.libs/libnl-3.a" "$out/lib/"
	rm -rf "$out/include/netlink"
	cp -r "$dir/include/netlink" "$out/include/netlink"
}

main() {
	check_tools
	mkdir -p "$src_dir"
	link_kernel_headers
	write_src_sources
	apt_private update >"$out/fetch.log" 2>&1 ||
		die "apt-get update of the deb-src lists failed (see $out/fetch.log;" \
			"make VEILNET_LIBC=glibc builds the plugin without them)"
	build_jansson "$(fetch_source libjansson-dev)"
	build_libnl "$(fetch_source libnl-3-dev)"
	echo "musl-libs: jansson and libnl-3 built for musl in $out"
}

main
