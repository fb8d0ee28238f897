#pragma once
// Text from a database or a worker, made safe to print on a terminal.

#include <string>
#include <string_view>

namespace hpt {

// text with every byte that could drive a terminal shown as an escape instead: C0 controls
// and DEL as \n, \t, \r or \xNN (ESC is \x1b), C1 controls and bidirectional overrides as \uNNNN,
// bytes that are not valid UTF-8 as \xNN. Printable text (any script) is kept as is.
std::string terminal_text(std::string_view text);

// text as one word a POSIX shell reads back as text: as it is when it holds only characters no
// shell treats specially (letters, digits and _ - . / + , : = @ %), else in single quotes (a
// quote inside as '\''). For commands hpt suggests with a path from a database or a config.
std::string shell_word(std::string_view text);

}  // namespace hpt
