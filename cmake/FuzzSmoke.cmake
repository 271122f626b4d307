# Builds the libFuzzer targets in a nested clang build and registers a short
# smoke run of each (seconds, with the committed seed corpus) as a ctest test.
include(ExternalProject)
find_program(TAHO_CLANGXX clang++)
find_program(TAHO_CLANG clang)
if(NOT TAHO_CLANGXX)
  message(WARNING "clang++ not found: fuzz smoke tests are not built")
  return()
endif()

include(${PROJECT_SOURCE_DIR}/fuzz/targets.cmake)   # sets TAHO_FUZZ_TARGETS

set(fuzz_dir ${CMAKE_BINARY_DIR}/fuzz-build)
ExternalProject_Add(taho_fuzzers
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${fuzz_dir}
  CMAKE_ARGS -G Ninja -DCMAKE_C_COMPILER=${TAHO_CLANG} -DCMAKE_CXX_COMPILER=${TAHO_CLANGXX}
             -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAHO_FUZZ=ON
  BUILD_COMMAND ${CMAKE_COMMAND} --build ${fuzz_dir} -j 2
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  USES_TERMINAL_BUILD ON)

set(TAHO_FUZZ_SMOKE_SECONDS 4 CACHE STRING "Seconds each fuzz target runs in ctest")
foreach(target IN LISTS TAHO_FUZZ_TARGETS)
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${target})
  set(work ${CMAKE_BINARY_DIR}/fuzz-work/${target})
  # The fresh work corpus keeps the committed seeds untouched; the seeds are read too.
  add_test(NAME fuzz_smoke.${target}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
            sh -c "mkdir -p '${work}' && exec '${fuzz_dir}/bin/${target}' -max_total_time=${TAHO_FUZZ_SMOKE_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 '${work}' '${corpus}'")
  set_tests_properties(fuzz_smoke.${target} PROPERTIES TIMEOUT 120 LABELS fuzz)
endforeach()
