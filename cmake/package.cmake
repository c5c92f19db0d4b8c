# `cpack -G DEB` (from the build directory) -> genre_<version>_<arch>.deb: the genre binary,
# libgenre with its headers, CMake package and genre.pc, the Python module in Debian's
# dist-packages, the shipped models and the docs, installed under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME genre)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "genre maintainers <genre@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "music genre classification: CRNN models over librosa-identical log-mel spectrograms")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "genre classifies music by genre with convolutional recurrent networks (CLI, HTTP service,
 C++ library, Python module). Its front end computes the same log-mel spectrograms as librosa.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
# The shared libraries' packages come from dpkg-shlibdeps (libtorch1.13, libsndfile1, ...); the
# Python module needs numpy at run time, which no ELF dependency shows.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3-numpy")
# libgenre ships in this very package: dpkg-shlibdeps finds it in the build tree.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/src)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
include(CPack)
