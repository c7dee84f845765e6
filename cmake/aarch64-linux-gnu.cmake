# CMake toolchain for cross-building Cairn for arm64 (Raspberry Pi 3/4/5 on 64-bit OS)
# on a Debian 12 amd64 host, with Debian's cross compiler (crossbuild-essential-arm64)
# and the :arm64 multiarch -dev packages. scripts/cross-arm64.sh installs those and
# uses this file:
#   cmake -S . -B build-arm64 -G Ninja --toolchain cmake/aarch64-linux-gnu.cmake
# Optional: -DCAIRN_CROSS_PKG_CONFIG_PATH=<dir> puts <dir> ahead of the arm64 .pc files
# (the script uses it for jemalloc, whose -dev package is not co-installable).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(_triple aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_triple}-g++)

# Debian multiarch: the arm64 libraries, .pc files and CMake packages live beside the
# host's under /usr (lib/aarch64-linux-gnu), not in a separate sysroot. With the
# library architecture set, find_library/find_package look in /usr/lib/aarch64-linux-gnu
# (and arch-independent /usr/lib/cmake, /usr/share) and never in the amd64 directory.
set(CMAKE_LIBRARY_ARCHITECTURE ${_triple})
set(CMAKE_FIND_ROOT_PATH / /usr/${_triple})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # build tools (pkg-config, python) are the host's
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the arm64 and arch-independent .pc files (LIBDIR replaces the
# default search path, so the amd64 ones in /usr/lib/x86_64-linux-gnu/pkgconfig are
# never seen). Set here, not by the caller, so a re-configure run by ninja sees it too.
set(_pc_libdir /usr/lib/${_triple}/pkgconfig:/usr/share/pkgconfig)
if(CAIRN_CROSS_PKG_CONFIG_PATH)
  set(_pc_libdir ${CAIRN_CROSS_PKG_CONFIG_PATH}:${_pc_libdir})
endif()
# try_compile re-reads this file in the same process: without the extra path there it
# would reset the (process-wide) environment and pkg-config would lose jemalloc.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CAIRN_CROSS_PKG_CONFIG_PATH)
set(ENV{PKG_CONFIG_LIBDIR} ${_pc_libdir})
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest runs the unit test binaries through qemu-user. -L is where qemu looks first for
# the arm64 dynamic loader and every file the guest opens. With the multiarch libc6:arm64
# installed (scripts/cross-arm64.sh installs it with the -dev packages) that is "/": its
# /lib/ld-linux-aarch64.so.1 matches the /lib/aarch64-linux-gnu/libc.so.6 it loads. The
# cross toolchain's loader (-L /usr/aarch64-linux-gnu, libc6-arm64-cross 2.36-8cross1)
# would load that same multiarch libc.so.6 (2.36-9+deb12u14) first: a loader and libc of
# different builds share private data (_rtld_global), and fork() never returned in the
# child (glibc's reclaim_stacks walks a list that no longer ends).
find_program(CAIRN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(CAIRN_QEMU_LD_PREFIX /)
else()
  set(CAIRN_QEMU_LD_PREFIX /usr/${_triple})
endif()
if(CAIRN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CAIRN_QEMU_AARCH64} -L ${CAIRN_QEMU_LD_PREFIX})
endif()
