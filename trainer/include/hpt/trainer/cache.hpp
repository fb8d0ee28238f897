#pragma once
// The on-disk cache (pretrained built-in CNNs, frozen features): HPT_CACHE_DIR, default
// ~/.cache/hpt. Concurrent workers are safe: one computes under an flock, the others
// wait and read; files appear atomically (temporary file, then rename).

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace hpt::trainer {

// $HPT_CACHE_DIR, else $HOME/.cache/hpt (else ./.hpt-cache).
std::string cache_root();

// A 16-hex-digit FNV-1a digest of text.
std::string digest(std::string_view text);

// Digest of a file's size, mtime and contents. Throws std::runtime_error naming the file.
std::string file_digest(const std::string& path);
// file_digest's text without its mtime ("<hash>-<size>"): the bytes, wherever the file was
// copied; "" for text that is not a file_digest.
std::string content_fingerprint(const std::string& file_digest_text);
// Throws std::runtime_error naming file when its content_fingerprint is not `recorded`, the one
// a model.json holds for it (another run's head.pt or cnn.pt copied into the folder loads,
// as its shapes agree, and decides otherwise).
void check_saved_file(const std::string& file, const std::string& recorded);

// Ensures the caller holds the entry at `path`. On a hit, read(path) has read it. Otherwise
// (no entry, or one read() throws on: truncated, from another version; a warning line naming
// it goes to log and it is removed), under an exclusive lock on path + ".lock" so that
// concurrent workers build it once, build() has made it and save(out) has written it to path
// all at once (write_stream_atomically). An entry that cannot be written (a full disk, a
// file-size limit) is a warning line naming it: the caller has it all the same. Returns true
// on a hit. Exceptions from build or save propagate and leave no file behind.
bool ensure_cached(const std::string& path, const std::function<void()>& build,
                   const std::function<void(std::ostream&)>& save,
                   const std::function<void(const std::string&)>& read, std::ostream& log);

}  // namespace hpt::trainer
