# Helpers that declare libraries, tests and benchmarks with explicit sources and
# dependencies (no file(GLOB)).
#
# foresight_library(NAME sim SRCS a.cc b.cc DEPS foresight::base)
#   -> target foresight_sim, alias foresight::sim, include root = repository root.
# foresight_test(SRCS x_test.cc DEPS foresight::sim)
#   -> sources appended to the single unit-test binary `foresight_unit_tests`
#      (one link step, one binary: cheaper on 2-core CI machines).
# foresight_benchmark(SRCS x_benchmark.cc DEPS foresight::sim)
#   -> sources appended to the single `foresight_benchmarks` binary.

function(foresight_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(foresight_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(foresight::${ARG_NAME} ALIAS foresight_${ARG_NAME})
  target_include_directories(foresight_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(foresight_${ARG_NAME} PUBLIC ${ARG_DEPS} ${ARG_PUBLIC_DEPS})
endfunction()

# FORESIGHT_TEST_DIRS (cache, optional): a list of folders (relative to the repository root,
# e.g. "sim;models/hw") whose tests and benchmarks are built; empty = all. Lets one library be
# built and tested while others are being edited.
set(FORESIGHT_TEST_DIRS "" CACHE STRING "Only build tests/benchmarks from these folders")

function(_foresight_dir_selected out)
  set(${out} TRUE PARENT_SCOPE)
  if(FORESIGHT_TEST_DIRS)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT rel IN_LIST FORESIGHT_TEST_DIRS)
      set(${out} FALSE PARENT_SCOPE)
    endif()
  endif()
endfunction()

function(foresight_test)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  _foresight_dir_selected(selected)
  if(NOT selected)
    return()
  endif()
  foreach(src ${ARG_SRCS})
    set_property(GLOBAL APPEND PROPERTY FORESIGHT_TEST_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY FORESIGHT_TEST_DEPS ${ARG_DEPS})
endfunction()

function(foresight_benchmark)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  _foresight_dir_selected(selected)
  if(NOT selected)
    return()
  endif()
  foreach(src ${ARG_SRCS})
    set_property(GLOBAL APPEND PROPERTY FORESIGHT_BENCH_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  endforeach()
  set_property(GLOBAL APPEND PROPERTY FORESIGHT_BENCH_DEPS ${ARG_DEPS})
endfunction()
