# Script mode (cmake -P): writes OUT, a C++ file defining hpt::embedded::SYMBOL() as the bytes
# of IN. Chunks of raw string literals keep each literal short for every compiler.
file(READ ${IN} content HEX)
string(LENGTH "${content}" hex_length)
set(body "")
set(chunk 8192)
set(offset 0)
while(offset LESS hex_length)
  string(SUBSTRING "${content}" ${offset} ${chunk} piece)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" piece "${piece}")
  string(APPEND body "\"${piece}\"\n")
  math(EXPR offset "${offset} + ${chunk}")
endwhile()
if(body STREQUAL "")
  set(body "\"\"")
endif()
math(EXPR size "${hex_length} / 2")
file(WRITE ${OUT}.tmp
  "// Generated from ${IN} by cmake/embed_file.cmake; edit the source file instead.\n"
  "#include <string_view>\n"
  "namespace hpt::embedded {\n"
  "std::string_view ${SYMBOL}() {\n"
  "  static const char k_data[] =\n${body};\n"
  "  return std::string_view(k_data, ${size});\n"
  "}\n"
  "}  // namespace hpt::embedded\n")
file(RENAME ${OUT}.tmp ${OUT})
