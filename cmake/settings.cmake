# Project-wide settings every hpt target links: warnings, sanitizers.
add_library(hpt_settings INTERFACE)
target_compile_options(hpt_settings INTERFACE -Wall -Wextra)
if(HPT_SANITIZE)
  target_compile_options(hpt_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(hpt_settings INTERFACE -fsanitize=address,undefined)
endif()
if(HPT_FUZZ)  # Coverage feedback from hpt's own code, not only from each fuzz target's file.
  target_compile_options(hpt_settings INTERFACE -fsanitize=fuzzer-no-link)
endif()

# hpt_component(NAME SOURCES... DEPS ...) declares library hpt_NAME, alias hpt::NAME,
# with public headers in NAME/include.
function(hpt_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(hpt_${name} STATIC ${ARG_SOURCES})
  add_library(hpt::${name} ALIAS hpt_${name})
  target_include_directories(hpt_${name} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
  target_link_libraries(hpt_${name} PUBLIC ${ARG_DEPS} PRIVATE hpt_settings)
endfunction()

# hpt_component_glob(NAME [DIR dir] DEPS ...) is hpt_component over every dir/*.cpp (default src).
function(hpt_component_glob name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  if(NOT ARG_DIR)
    set(ARG_DIR src)
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_DIR}/*.cpp)
  if(NOT sources)
    message(STATUS "hpt: component ${name} has no sources yet; skipped")
    return()
  endif()
  hpt_component(${name} SOURCES ${sources} DEPS ${ARG_DEPS})
endfunction()
