# Installing genre as a library others build on (docs/library.md): libgenre, its public headers,
# a CMake package (find_package(genre CONFIG) -> genre::genre) and genre.pc. Included from the
# top-level CMakeLists.txt after src/.
include(CMakePackageConfigHelpers)

# The public API: these headers (and only these) are installed, under include/genre/ with their
# layout in src/. They include one another by relative paths, never private headers; the
# package test checks both.
set(GENRE_PUBLIC_HEADERS
  genre.h
  audio/audio.h
  common/error.h
  features/feature_config.h
  features/features.h
  features/npy.h
  model/arch_config.h
  model/crnn.h
  model/gru_inference.h
  model/inference.h
  model/model_file.h
  model/precision.h
  predict/predictor.h
  predict/segments.h)
foreach(header ${GENRE_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/src/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/genre/${dir})
endforeach()

install(TARGETS genre_lib EXPORT genreTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(GENRE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/genre)
install(EXPORT genreTargets NAMESPACE genre:: DESTINATION ${GENRE_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/genreConfig.cmake.in
  ${PROJECT_BINARY_DIR}/genreConfig.cmake
  INSTALL_DESTINATION ${GENRE_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor release may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/genreConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/genreConfig.cmake ${PROJECT_BINARY_DIR}/genreConfigVersion.cmake
        DESTINATION ${GENRE_CMAKE_DIR})

# pkg-config: LibTorch ships no .pc file, so its flags are written out from what CMake found.
set(GENRE_PC_TORCH_CFLAGS "${TORCH_CXX_FLAGS}")
foreach(dir ${TORCH_INCLUDE_DIRS})
  string(APPEND GENRE_PC_TORCH_CFLAGS " -I${dir}")
endforeach()
get_target_property(GENRE_TORCH_LIBRARY c10 IMPORTED_LOCATION_RELWITHDEBINFO)
if(NOT GENRE_TORCH_LIBRARY)
  get_target_property(GENRE_TORCH_LIBRARY c10 LOCATION)
endif()
get_filename_component(GENRE_TORCH_LIBDIR "${GENRE_TORCH_LIBRARY}" DIRECTORY)
set(GENRE_PC_TORCH_LIBS "-L${GENRE_TORCH_LIBDIR} -ltorch -ltorch_cpu -lc10")
if(GENRE_SANITIZE)
  # An ASan build's library needs the sanitizer runtimes linked into the program that uses it.
  string(APPEND GENRE_PC_TORCH_LIBS " -fsanitize=address,undefined")
endif()
# Relocatable: the prefix is found from the .pc file's own place (a .deb installs under /usr
# whatever CMAKE_INSTALL_PREFIX was).
file(RELATIVE_PATH GENRE_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" GENRE_PC_TO_PREFIX "${GENRE_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/genre.pc.in ${PROJECT_BINARY_DIR}/genre.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/genre.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
       )

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/library.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
