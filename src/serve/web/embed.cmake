# Turns the web page into a C++ header at build time (cmake -DINPUT=... -DOUTPUT=... -P embed.cmake)
# so `genre serve` needs no files installed beside it.
file(READ "${INPUT}" content)
set(delimiter "genre_page")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from src/serve/web/index.html by src/serve/web/embed.cmake: do not edit.\n"
  "#pragma once\n\nnamespace genre::serve {\n\n"
  "inline const char* web_page() {\n  return R\"${delimiter}(${content})${delimiter}\";\n}\n\n"
  "}  // namespace genre::serve\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
