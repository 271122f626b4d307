# BLAKE3 from the official C implementation that Debian ships in
# librust-blake3-dev. The files are compiled from their installed location
# (never copied into the repository); the C library is not ours, so our
# warning flags do not apply to it.
file(GLOB taho_blake3_dirs LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
list(SORT taho_blake3_dirs COMPARE NATURAL ORDER DESCENDING)   # newest version first
list(GET taho_blake3_dirs 0 TAHO_BLAKE3_C_DIR)
if(NOT EXISTS ${TAHO_BLAKE3_C_DIR}/blake3_impl.h)
  message(FATAL_ERROR "BLAKE3 C sources not found under /usr/share/cargo/registry/blake3-*/c "
                      "(install librust-blake3-dev: scripts/setup)")
endif()
message(STATUS "BLAKE3 C sources: ${TAHO_BLAKE3_C_DIR}")

set(blake3_sources
    ${TAHO_BLAKE3_C_DIR}/blake3.c
    ${TAHO_BLAKE3_C_DIR}/blake3_dispatch.c
    ${TAHO_BLAKE3_C_DIR}/blake3_portable.c)
set(blake3_definitions "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND NOT WIN32)
  # The unix assembly of every SIMD level; blake3_dispatch.c picks the best
  # one the CPU supports at run time (cpuid).
  list(APPEND blake3_sources
       ${TAHO_BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S
       ${TAHO_BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
       ${TAHO_BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S
       ${TAHO_BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  list(APPEND blake3_sources ${TAHO_BLAKE3_C_DIR}/blake3_neon.c)
  list(APPEND blake3_definitions BLAKE3_USE_NEON=1)
else()
  # Anything else (wasm32 included): the portable C code only.
  list(APPEND blake3_definitions BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512
       BLAKE3_USE_NEON=0)
endif()

add_library(taho_blake3_c STATIC ${blake3_sources})
set_target_properties(taho_blake3_c PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
target_compile_definitions(taho_blake3_c PUBLIC ${blake3_definitions})
# SYSTEM: our -Wold-style-cast etc. must not fire on the C headers we include
# (blake3_impl.h gives our wrapper the compression functions for the tree).
target_include_directories(taho_blake3_c SYSTEM PUBLIC ${TAHO_BLAKE3_C_DIR})
set(TAHO_BLAKE3_LIBS taho_blake3_c)
