#pragma once
// The one "did you mean" rule for unknown names in configs, options and flags.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hpt {

// The candidate closest to word by edit distance (Levenshtein) if it is a likely typo: at
// most max(2, word.size() / 3) edits away; the first of equally close ones; std::nullopt
// when none is that close.
std::optional<std::string> near_miss(std::string_view word,
                                     const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" with x = near_miss(word, candidates), or "" when there is none; the
// hint every "unknown ..." message appends right after the unknown name.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace hpt
