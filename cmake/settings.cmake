# Project-wide settings every hpt target links: warnings, sanitizers.
add_library(hpt_settings INTERFACE)
target_compile_options(hpt_settings INTERFACE -Wall -Wextra)
if(HPT_SANITIZE)
  target_compile_options(hpt_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(hpt_settings INTERFACE -fsanitize=address,undefined)
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
