#include "hpt/trainer/image_cache.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/tuner/rng.hpp"

namespace hpt::trainer {
namespace {

constexpr char k_magic[8] = {'H', 'P', 'T', 'I', 'M', 'G', 'C', '1'};
constexpr uint32_t k_version = 1;
constexpr uint64_t k_max_string = 1 << 20;

// Sequential writer that keeps an Adler-32 of everything after the magic.
class CacheWriter {
 public:
  explicit CacheWriter(AtomicFile& out) : m_out(out) {}
  void bytes(const void* data, size_t size) {
    m_out.write(std::string_view(static_cast<const char*>(data), size));
    m_checksum = adler32_z(m_checksum, static_cast<const Bytef*>(data), size);
  }
  void u64(uint64_t value) { bytes(&value, sizeof value); }
  void text(const std::string& value) {
    u64(value.size());
    bytes(value.data(), value.size());
  }
  uint32_t checksum() const { return static_cast<uint32_t>(m_checksum); }

 private:
  AtomicFile& m_out;
  uLong m_checksum = adler32(0, nullptr, 0);
};

// Sequential reader; every method returns false on a short read or an absurd value.
class CacheReader {
 public:
  explicit CacheReader(std::ifstream& in) : m_in(in) {}
  bool bytes(void* data, size_t size) {
    m_in.read(static_cast<char*>(data), static_cast<std::streamsize>(size));
    if (static_cast<size_t>(m_in.gcount()) != size) {
      return false;
    }
    m_checksum = adler32_z(m_checksum, static_cast<const Bytef*>(data), size);
    return true;
  }
  bool u64(uint64_t& value) { return bytes(&value, sizeof value); }
  bool text(std::string& value) {
    uint64_t size = 0;
    if (!u64(size) || size > k_max_string) {
      return false;
    }
    value.resize(size);
    return bytes(value.data(), size);
  }
  uint32_t checksum() const { return static_cast<uint32_t>(m_checksum); }

 private:
  std::ifstream& m_in;
  uLong m_checksum = adler32(0, nullptr, 0);
};

std::optional<DecodedPools> read_cache_body(std::ifstream& in, uint64_t file_size,
                                            const std::string& fingerprint) {
  char magic[sizeof k_magic];
  in.read(magic, sizeof magic);
  if (in.gcount() != sizeof magic || std::memcmp(magic, k_magic, sizeof magic) != 0) {
    return std::nullopt;
  }
  CacheReader reader(in);
  DecodedPools pools;
  uint64_t version = 0, height = 0, width = 0, channels = 0, classes = 0, pool_count = 0;
  if (!reader.u64(version) || version != k_version || !reader.text(pools.source_fingerprint) ||
      pools.source_fingerprint != fingerprint || !reader.u64(height) || !reader.u64(width) ||
      !reader.u64(channels) || !reader.u64(classes) || height > 1 << 16 || width > 1 << 16 ||
      (channels != 1 && channels != 3) || classes > 1 << 20) {
    return std::nullopt;
  }
  pools.height = static_cast<int>(height);
  pools.width = static_cast<int>(width);
  pools.channels = static_cast<int>(channels);
  pools.class_names.resize(classes);
  for (auto& name : pools.class_names) {
    if (!reader.text(name)) {
      return std::nullopt;
    }
  }
  if (!reader.u64(pool_count) || pool_count > 64) {
    return std::nullopt;
  }
  pools.pools.resize(pool_count);
  const uint64_t stride = height * width * channels;
  uint64_t payload = 0;
  for (auto& pool : pools.pools) {
    uint64_t count = 0;
    if (!reader.text(pool.name) || !reader.u64(count) ||
        count > (uint64_t{1} << 40) / (stride + 8)) {
      return std::nullopt;
    }
    pool.count = static_cast<int64_t>(count);
    payload += count * (stride + 8);
  }
  // The rest of the file must be exactly the payload plus the checksum.
  const auto position = static_cast<uint64_t>(in.tellg());
  if (position + payload + 4 != file_size) {
    return std::nullopt;
  }
  for (auto& pool : pools.pools) {
    const auto count = static_cast<uint64_t>(pool.count);
    pool.images.resize(count * stride);
    pool.labels.resize(count);
    if (!reader.bytes(pool.images.data(), pool.images.size()) ||
        !reader.bytes(pool.labels.data(), count * sizeof(int64_t))) {
      return std::nullopt;
    }
    for (int64_t label : pool.labels) {
      if (label < 0 || static_cast<uint64_t>(label) >= classes) {
        return std::nullopt;
      }
    }
  }
  const uint32_t expected = reader.checksum();
  uint32_t stored = 0;
  in.read(reinterpret_cast<char*>(&stored), sizeof stored);
  if (in.gcount() != sizeof stored || stored != expected) {
    return std::nullopt;
  }
  return pools;
}

}  // namespace

std::optional<DecodedPools> read_image_cache(const std::string& path,
                                             const std::string& fingerprint) {
  std::error_code error;
  const uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  try {
    return read_cache_body(in, file_size, fingerprint);
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

void write_image_cache(const std::string& path, const DecodedPools& pools) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path());
  }
  AtomicFile out(path);  // Its temporary: a killed writer's is removed by a later write.
  out.write(std::string_view(k_magic, sizeof k_magic));
  CacheWriter writer(out);
  writer.u64(k_version);
  writer.text(pools.source_fingerprint);
  writer.u64(static_cast<uint64_t>(pools.height));
  writer.u64(static_cast<uint64_t>(pools.width));
  writer.u64(static_cast<uint64_t>(pools.channels));
  writer.u64(pools.class_names.size());
  for (const auto& name : pools.class_names) {
    writer.text(name);
  }
  writer.u64(pools.pools.size());
  for (const auto& pool : pools.pools) {
    writer.text(pool.name);
    writer.u64(static_cast<uint64_t>(pool.count));
  }
  for (const auto& pool : pools.pools) {
    writer.bytes(pool.images.data(), pool.images.size());
    writer.bytes(pool.labels.data(), pool.labels.size() * sizeof(int64_t));
  }
  const uint32_t checksum = writer.checksum();
  out.write(std::string_view(reinterpret_cast<const char*>(&checksum), sizeof checksum));
  out.commit();
}

std::string hash_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return fmt::format("{:016x}", hpt::mix64(h));
}

std::string files_fingerprint(const std::vector<std::string>& paths) {
  std::string text;
  text.reserve(paths.size() * 64);
  for (const auto& path : paths) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      const int error = errno;
      std::error_code ec;
      if (error == ELOOP) {  // It was said as a link to a missing file.
        throw std::runtime_error(fmt::format("{}: a symbolic link loop", path));
      }
      if (error != ENOENT) {
        throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(error)));
      }
      if (std::filesystem::is_symlink(path, ec)) {
        throw std::runtime_error(fmt::format("{}: a symbolic link to a missing file ({})", path,
                                             std::filesystem::read_symlink(path, ec).string()));
      }
      throw std::runtime_error(fmt::format("file not found: {}", path));
    }
    // Size and modification time, and the inode and its change time: a file moved or copied
    // over another of the same size and date (an archive's) is another file.
    text += fmt::format(
        "{}\t{}\t{}.{:09}\t{}\t{}.{:09}\n", path, static_cast<int64_t>(info.st_size),
        static_cast<int64_t>(info.st_mtim.tv_sec), static_cast<int64_t>(info.st_mtim.tv_nsec),
        static_cast<uint64_t>(info.st_ino), static_cast<int64_t>(info.st_ctim.tv_sec),
        static_cast<int64_t>(info.st_ctim.tv_nsec));
  }
  return hash_hex(text);
}

}  // namespace hpt::trainer
