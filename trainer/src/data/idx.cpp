#include "hpt/trainer/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <regex>
#include <stdexcept>

#include "hpt/io/big_endian.hpp"
#include "hpt/io/regular_file.hpp"

namespace hpt::trainer {
namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

// Reads exactly size bytes (gzread reads raw files transparently); false if short.
bool read_exact(gzFile file, uint8_t* out, size_t size) {
  constexpr size_t k_chunk = size_t{1} << 30;
  while (size > 0) {
    const unsigned want = static_cast<unsigned>(std::min(size, k_chunk));
    const int got = gzread(file, out, want);
    if (got <= 0) {
      return false;
    }
    out += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

// zlib's account of a read of path that failed on corrupt data ("incorrect data check": a CRC
// that does not match), or "" (none, or the stream just ended early: a truncation).
std::string gzip_problem(gzFile file, const std::string& path) {
  int error = Z_OK;
  const char* text = gzerror(file, &error);
  if (error == Z_OK || error == Z_STREAM_END || error == Z_BUF_ERROR || text == nullptr) {
    return "";
  }
  const std::string message = text;  // "<path>: <reason>"
  return message.rfind(path + ": ", 0) == 0 ? message.substr(path.size() + 2) : message;
}

// deflate's best ratio is about 1032:1, so a gzip file of B bytes inflates to < 1032 B.
constexpr uintmax_t k_max_gzip_ratio = 1032;

// An IDX file holding more data than its header's dims take: the header is wrong (the images
// would be cut at the wrong size, silently) or another file's data was appended. Refused, as
// torchvision's reader does.
std::string more_data_problem(const std::string& path, const std::vector<int64_t>& dims,
                              uintmax_t total) {
  return fmt::format(
      "IDX file {} is corrupt: it holds more data than the {} bytes its header's dims [{}] "
      "take",
      path, total, fmt::join(dims, ", "));
}

// An IDX file opened and its header read and checked: the data comes next.
struct OpenIdx {
  std::unique_ptr<gzFile_s, GzCloser> file;
  std::vector<int64_t> dims;
  uintmax_t data_bytes = 0;  // The product of dims.
};

OpenIdx open_idx(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(fmt::format("IDX file not found: {}", path));
  }
  std::error_code size_error;
  const uintmax_t file_bytes = std::filesystem::file_size(path, size_error);
  if (size_error) {
    throw std::runtime_error(
        fmt::format("cannot read IDX file {}: {}", path, size_error.message()));
  }
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw std::runtime_error(fmt::format("cannot open IDX file {}", path));
  }
  gzbuffer(file.get(), 1 << 20);
  uint8_t magic[4];
  if (!read_exact(file.get(), magic, 4)) {
    const std::string gzip = gzip_problem(file.get(), path);
    throw std::runtime_error(gzip.empty()
                                 ? fmt::format("IDX file {} is truncated (no header)", path)
                                 : fmt::format("IDX file {} is corrupt (gzip: {})", path, gzip));
  }
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
    throw std::runtime_error(
        fmt::format("{} is not an unsigned-byte IDX file: magic {:02x}{:02x}{:02x}{:02x}", path,
                    magic[0], magic[1], magic[2], magic[3]));
  }
  OpenIdx idx;
  for (int d = 0; d < magic[3]; ++d) {
    uint8_t b[4];
    if (!read_exact(file.get(), b, 4)) {
      throw std::runtime_error(fmt::format("IDX file {} is truncated (dimensions)", path));
    }
    idx.dims.push_back(int64_t{read_be32(b)});
  }
  // The header's claim against what the file can hold, before allocating anything: a raw file
  // holds exactly its remaining bytes, a gzip file inflates at most k_max_gzip_ratio-fold.
  const bool gzipped = gzdirect(file.get()) == 0;
  const auto header_bytes = static_cast<uintmax_t>(4 + 4 * magic[3]);
  const uintmax_t available = gzipped                     ? file_bytes * k_max_gzip_ratio
                              : file_bytes > header_bytes ? file_bytes - header_bytes
                                                          : 0;
  uintmax_t total = 1;
  for (int64_t dim : idx.dims) {
    total = (dim == 0 || total <= available / static_cast<uintmax_t>(dim))
                ? total * static_cast<uintmax_t>(dim)
                : available + 1;  // Saturate: more than the file holds.
  }
  if (total > available) {
    throw std::runtime_error(fmt::format(
        "IDX file {} is truncated or corrupt: its header claims dims [{}] but the {} holds at "
        "most {} data bytes",
        path, fmt::join(idx.dims, ", "), gzipped ? "gzip file" : "file", available));
  }
  if (!gzipped && total < available) {  // A gzip file's excess shows once its data is read.
    throw std::runtime_error(more_data_problem(path, idx.dims, total));
  }
  idx.file = std::move(file);
  idx.data_bytes = total;
  return idx;
}

}  // namespace

std::vector<int64_t> read_idx_dims(const std::string& path) { return open_idx(path).dims; }

IdxArray read_idx(const std::string& path) {
  OpenIdx open = open_idx(path);
  const uintmax_t total = open.data_bytes;
  auto& file = open.file;
  IdxArray array;
  array.dims = std::move(open.dims);
  // Grown chunk by chunk, so a gzip stream that ends early never costs its full claim.
  constexpr size_t k_chunk = size_t{64} << 20;
  for (size_t have = 0; have < total;) {
    const size_t next = std::min<size_t>(total, have + k_chunk);
    array.data.resize(next);
    if (!read_exact(file.get(), array.data.data() + have, next - have)) {
      const std::string gzip = gzip_problem(file.get(), path);
      throw std::runtime_error(
          gzip.empty()
              ? fmt::format("IDX file {} is truncated or corrupt: expected {} data bytes for dims "
                            "[{}]",
                            path, total, fmt::join(array.dims, ", "))
              : fmt::format("IDX file {} is corrupt (gzip: {})", path, gzip));
    }
    have = next;
  }
  uint8_t more = 0;
  if (gzread(file.get(), &more, 1) > 0) {
    throw std::runtime_error(more_data_problem(path, array.dims, total));
  }
  if (const std::string gzip = gzip_problem(file.get(), path); !gzip.empty()) {
    throw std::runtime_error(fmt::format("IDX file {} is corrupt (gzip: {})", path, gzip));
  }
  return array;
}

bool idx_files_pair(const std::string& images, const std::string& labels) {
  // The file name in lower case without ".gz", separators as '-', the kind words dropped.
  const auto key = [](const std::string& path) {
    std::string name = std::filesystem::path(path).filename().string();
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) {
      name.resize(name.size() - 3);
    }
    for (char& c : name) {
      c = c == '_' || c == '.' ? '-'
                               : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const char* word : {"images", "labels", "idx3", "idx1"}) {
      for (size_t at; (at = name.find(word)) != std::string::npos;) {
        name.replace(at, std::strlen(word), "*");
      }
    }
    return name;
  };
  return key(images) == key(labels);
}

std::string idx_file_name(const std::string& pool, const std::string& kind) {
  return pool + "-" + kind + (kind == "images" ? "-idx3" : "-idx1") + "-ubyte";
}

std::string find_idx_file(const std::string& folder, const std::string& pool,
                          const std::string& kind) {
  namespace fs = std::filesystem;
  const std::string dims = kind == "images" ? "idx3" : "idx1";
  const std::string canonical = (fs::path(folder) / idx_file_name(pool, kind)).string();
  for (const std::string& path : {canonical, canonical + ".gz"}) {
    if (fs::is_regular_file(path)) {
      return path;
    }
    // Kaggle's MNIST unpacks each file into a folder of its name as well
    // ("train-images-idx3-ubyte/train-images-idx3-ubyte").
    const fs::path inner = fs::path(path) / fs::path(path).filename();
    if (std::error_code ec; fs::is_directory(path, ec) && fs::is_regular_file(inner, ec)) {
      return inner.string();
    }
    if (std::error_code ec; fs::exists(path, ec)) {
      hpt::require_regular_file(path);  // Names what is there instead (a FIFO, a folder).
    }
  }
  // Other spellings: "train-images.idx3-ubyte" (MNIST unpacked on Windows, Kaggle), a prefix
  // ("emnist-letters-train-images-idx3-ubyte.gz"), "test" for "t10k"; any case.
  const std::regex pattern("(.*[-_.])?(" + pool + (pool == "t10k" ? "|test" : "") + ")[-_.]" +
                               kind + "[-_.]" + dims + "[-_.]ubyte(\\.gz)?",
                           std::regex::icase);
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();  // Not macOS's "._x" forks.
    // Not a link loop or other entry whose status cannot be read: it is not the file.
    if (name.front() != '.' && entry.is_regular_file(ec) && std::regex_match(name, pattern)) {
      found.push_back(entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  if (found.size() > 1) {
    throw std::runtime_error(fmt::format("{} IDX files could be the {} {}: {}; keep one in {}",
                                         found.size(), pool, kind, fmt::join(found, ", "), folder));
  }
  return found.empty() ? "" : found.front();
}

}  // namespace hpt::trainer
