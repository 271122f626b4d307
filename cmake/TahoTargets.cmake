# Helpers shared by every folder's CMakeLists.txt.

set(TAHO_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wconversion -Wno-sign-conversion)

# taho_portable_library(name SOURCES ...): code that must stay wasm-portable:
# no exceptions, no threads, no sockets (checked by tests/style).
function(taho_portable_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${TAHO_WARNINGS} -fno-exceptions)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  if(TAHO_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  endif()
endfunction()

# taho_library(name SOURCES ... DEPS ...): native-only code (drivers, node, CLI).
function(taho_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${TAHO_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# taho_test(name SOURCES ... DEPS ...): a GoogleTest binary, each test case
# registered with ctest. Tests live beside the code they prove.
function(taho_test name)
  if(NOT TAHO_TESTS OR TAHO_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
      TAHO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      TAHO_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120)
endfunction()

# taho_fuzz_target(name SOURCES ... DEPS ...): a libFuzzer binary, built only
# with -DTAHO_FUZZ=ON. Its seed corpus lives in fuzz/corpus/<name>.
function(taho_fuzz_target name)
  if(NOT TAHO_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# taho_folder_library(name PORTABLE|NATIVE DEPS ... TEST_DEPS ...): the common
# case: one library from the folder's *.cpp and one test binary from its
# *_test.cpp files. Adding a file to a folder needs no CMake edit.
function(taho_folder_library name kind)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS;EXTRA_SOURCES" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(tests)
    list(REMOVE_ITEM sources ${tests})
  endif()
  if(kind STREQUAL "PORTABLE")
    taho_portable_library(${name} SOURCES ${sources} ${ARG_EXTRA_SOURCES} DEPS ${ARG_DEPS})
  else()
    taho_library(${name} SOURCES ${sources} ${ARG_EXTRA_SOURCES} DEPS ${ARG_DEPS})
  endif()
  if(tests)
    taho_test(${name}_test SOURCES ${tests} DEPS ${name} ${ARG_TEST_DEPS})
  endif()
endfunction()
