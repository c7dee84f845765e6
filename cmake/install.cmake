# Where `cmake --install` puts Cairn (binary, systemd units, sysusers/tmpfiles entries,
# the commented example config, the docs) and how `cpack -G DEB` turns that into a
# Debian package. Included last from the top-level CMakeLists.txt; nothing from
# tests/ has an install rule, so test binaries never reach an install tree or the .deb.

# The docs go to <datarootdir>/doc/cairn whatever project() is called.
if(NOT DEFINED CMAKE_INSTALL_DOCDIR)
  set(CMAKE_INSTALL_DOCDIR "share/doc/cairn" CACHE PATH "Documentation (share/doc/cairn)")
endif()
include(GNUInstallDirs)

# Relative paths are under the prefix: with -DCMAKE_INSTALL_PREFIX=/usr the units land
# in /usr/lib/systemd/system, which systemd reads (and which is /lib/systemd/system on
# a merged-/usr Debian 12).
set(CAIRN_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Directory for the systemd units (relative paths are under CMAKE_INSTALL_PREFIX)")
set(CAIRN_SYSUSERSDIR "lib/sysusers.d")
set(CAIRN_TMPFILESDIR "lib/tmpfiles.d")

# The example config belongs in the system's configuration directory. GNUInstallDirs
# maps the /usr prefix to /etc (and /usr/local to /usr/local/etc), so the absolute
# CMAKE_INSTALL_FULL_SYSCONFDIR is used. It is fixed when CMake configures: change the
# prefix with -DCMAKE_INSTALL_PREFIX (then the units follow too), not with
# `cmake --install --prefix`; DESTDIR= stages the whole tree anywhere.
set(CAIRN_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/cairn")
set(CAIRN_BIN_PATH "${CMAKE_INSTALL_FULL_BINDIR}/cairn")

install(TARGETS cairn RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The files in systemd/ name the Debian paths (/usr/bin/cairn, /etc/cairn). Installed
# copies name the configured ones instead; with the /usr prefix they are unchanged.
set(_cairn_staged "${PROJECT_BINARY_DIR}/packaging")
set(_cairn_units cairn.service cairn@.service cairn-snapshot.service cairn-snapshot.timer)
foreach(_f IN LISTS _cairn_units ITEMS cairn.tmpfiles cairn.sysusers)
  set(_src "${PROJECT_SOURCE_DIR}/systemd/${_f}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_src}")
  file(READ "${_src}" _text)
  string(REPLACE "/usr/bin/cairn" "${CAIRN_BIN_PATH}" _text "${_text}")
  string(REPLACE "/etc/cairn" "${CAIRN_CONFDIR}" _text "${_text}")
  # GENERATE rewrites the copy only when its content changes.
  file(GENERATE OUTPUT "${_cairn_staged}/${_f}" CONTENT "${_text}")
endforeach()
foreach(_f IN LISTS _cairn_units)
  install(FILES "${_cairn_staged}/${_f}" DESTINATION ${CAIRN_SYSTEMD_UNITDIR})
endforeach()
install(FILES "${_cairn_staged}/cairn.sysusers" DESTINATION ${CAIRN_SYSUSERSDIR}
        RENAME cairn.conf)
install(FILES "${_cairn_staged}/cairn.tmpfiles" DESTINATION ${CAIRN_TMPFILESDIR}
        RENAME cairn.conf)

# 0640: the file may come to hold requirepass or masterauth. The package's postinst
# gives it the group cairn so the node (user cairn) can read it.
install(FILES packaging/cairn.conf DESTINATION ${CAIRN_CONFDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

# README.md links to docs/*.md, so the docs keep that relative place.
file(GLOB _cairn_docs CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/*.md")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${_cairn_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# --- Debian package -------------------------------------------------------------------
# `cpack -G DEB` in a build configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/build-deb.sh).

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cairn)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "Cairn developers")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Cairn developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Redis 7.0-compatible server with encrypted replication and backup mode")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Cairn speaks the Redis 7.0 protocol, loads redis.conf and Redis RDB/AOF files, and
replicates to and from Redis. Its own additions are an encrypted, authenticated
replication channel (Noise IKpsk2, one port to expose) and a backup mode: a
read-only replica that keeps verified, scheduled snapshots with retention and can
be promoted to a master. The package runs it as the systemd service cairn.service
with /etc/cairn/cairn.conf and its data in /var/lib/cairn.")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The package installs where this build was configured to, so that the paths written
# into the units and the maintainer scripts are the ones the files land at (CPack's DEB
# default would be /usr whatever CMAKE_INSTALL_PREFIX says).
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES TRUE)
# dpkg-shlibdeps reads the binary's NEEDED entries and the libraries' symbol files, so
# Depends names exactly the libraries linked (jemalloc only outside sanitizer builds)
# with the minimum versions the used symbols need; a list by hand would drift.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst creates the user with systemd-sysusers, or adduser without systemd.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-tools")

# Maintainer scripts. postinst names the installed sysusers/tmpfiles files and the
# config file, so it is configured with this build's paths; conffiles likewise.
set(CAIRN_SYSUSERS_FILE "${CMAKE_INSTALL_PREFIX}/${CAIRN_SYSUSERSDIR}/cairn.conf")
set(CAIRN_TMPFILES_FILE "${CMAKE_INSTALL_PREFIX}/${CAIRN_TMPFILESDIR}/cairn.conf")
set(CAIRN_CONF_FILE "${CAIRN_CONFDIR}/cairn.conf")
configure_file(packaging/debian/postinst.in "${_cairn_staged}/debian/postinst" @ONLY)
configure_file(packaging/debian/prerm "${_cairn_staged}/debian/prerm" COPYONLY)
configure_file(packaging/debian/postrm.in "${_cairn_staged}/debian/postrm" @ONLY)
file(GENERATE OUTPUT "${_cairn_staged}/debian/conffiles" CONTENT "${CAIRN_CONF_FILE}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_cairn_staged}/debian/postinst;${_cairn_staged}/debian/prerm;${_cairn_staged}/debian/postrm;${_cairn_staged}/debian/conffiles")
# Scripts 0755, conffiles 0644, as Debian policy asks.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# `package_source` would otherwise pack every build tree in the checkout.
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")

include(CPack)
