# hpt_embed_text(TARGET SYMBOL FILE) compiles FILE (a readable web asset: .js, .css, .html)
# into TARGET as `std::string_view hpt::embedded::SYMBOL()`, regenerated when FILE changes.
set(HPT_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)

function(hpt_embed_text target symbol file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded/${symbol}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol} -P ${HPT_EMBED_SCRIPT}
    DEPENDS ${file} ${HPT_EMBED_SCRIPT}
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()
