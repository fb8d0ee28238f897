#pragma once
// Torch-free image decoding (stb_image), resizing (stb_image_resize) and PNG encoding
// (stb_image_write) of uint8 HWC images.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace hpt::trainer {

// A decoded image, row-major H x W x C uint8.
struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (grey) or 3 (RGB): alpha channels are dropped.
  std::vector<uint8_t> pixels;
};

// The most pixels decode_image decodes (8192 x 8192): a decompression bomb is refused from its
// header instead of filling memory.
inline constexpr int64_t k_max_image_pixels = int64_t{8192} * 8192;
// The largest image file hpt reads (an 8192 x 8192 RGB image stored uncompressed is 192 MiB).
inline constexpr size_t k_max_image_file_bytes = size_t{512} << 20;

// The one size rule for an image of width x height pixels (decoded files, IDX headers): ""
// when both sides are >= 1 and the area is at most k_max_image_pixels, else why not
// ("0 x 0 pixels is an empty image").
std::string image_size_problem(int64_t width, int64_t height);

// The file name extensions decode_image reads (lower case): what stb_image decodes, as the
// one list for dataset folders and messages.
inline constexpr const char* k_image_extensions[] = {".jpg", ".jpeg", ".png", ".bmp", ".gif",
                                                     ".tga", ".pgm",  ".ppm", ".pnm"};

// Whether name ends in one of k_image_extensions, in any case (".JPEG" too).
bool has_image_extension(const std::string& name);

// The image format a file's name promises, from its k_image_extensions entry ("PNG" for
// x.png, "JPEG" for x.jpg, "TGA" for x.TGA), or "" for another name.
std::string image_format_named_by(const std::string& path);

// The most memory decoding one image takes at once: stb's inflated or raw rows and its output
// (channels x bytes_per_channel a pixel each), the 8-bit copy of a 16-bit image, and the copy
// kept. An 8192 x 8192 16-bit RGBA PNG, a file of 500 KB, takes about 1.5 GB.
uint64_t decode_peak_bytes(int64_t width, int64_t height, int channels, int bytes_per_channel);

// Memory shared by threads that decode at once (decode_images): each decode holds its
// decode_peak_bytes while it runs, so that many large images decoded side by side cannot take
// more than the budget (on a 64-core machine, 64 of them took 64 GB).
class DecodeBudget {
 public:
  explicit DecodeBudget(uint64_t bytes) : m_limit(bytes) {}
  // Waits until bytes more fit within the budget, or until no decode holds any (one decode
  // always runs, however large), then holds them.
  void acquire(uint64_t bytes);
  // Gives back bytes an acquire held.
  void release(uint64_t bytes);

 private:
  std::mutex m_mutex;
  std::condition_variable m_freed;
  uint64_t m_limit;
  uint64_t m_held = 0;
};

// Decodes a JPEG/PNG/BMP/... file in its native colour (grey or RGB).
// Throws std::runtime_error naming the path if it is missing, not a regular file (a FIFO, a
// device, a folder: never opened), unreadable, corrupt (a PNG chunk failing its CRC-32 too:
// "corrupt PNG: chunk IDAT fails its CRC"), cut short (image_truncation_problem), larger than
// k_max_image_file_bytes, or empty or larger than k_max_image_pixels (image_size_problem),
// checked from the header.
DecodedImage decode_image(const std::string& path);
// decode_image, holding the image's decode_peak_bytes of budget (if not null) while it decodes.
DecodedImage decode_image(const std::string& path, DecodeBudget* budget);

// Returns the image resized to width x height (area filter when shrinking both sides, else
// bilinear); unchanged when it already has that size. Throws std::invalid_argument for a
// size <= 0 or an image image_size_problem refuses (stb would abort on an empty one).
DecodedImage resize_image(const DecodedImage& image, int width, int height);
// resize_image(image, size, size).
DecodedImage resize_image(const DecodedImage& image, int size);

// An image file as the model sees it before its extractor's input conversion: decode_image,
// then resize_image to width x height when both are > 0 (else as decoded). The one step that
// decode_images (a dataset's files, at image_size x image_size) and hpt match/embed (at the
// size the model trained on) share, so that the two cannot drift apart.
DecodedImage load_image(const std::string& path, int width, int height,
                        DecodeBudget* budget = nullptr);

// Returns the image with `channels` channels (grey -> RGB replicates, RGB -> grey uses
// ITU-R 601 luma). Throws std::invalid_argument for channels other than 1 or 3.
DecodedImage convert_channels(const DecodedImage& image, int channels);

// A batch of images packed as N x H x W x C uint8.
struct PackedImages {
  int64_t count = 0;
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

// The machine's physical memory in bytes (sysconf), or UINT64_MAX when it cannot tell.
uint64_t physical_memory_bytes();

// The memory this process may still fill: the least of physical_memory_bytes(), what its
// cgroup's limits leave (cgroup_memory_headroom: a container's or a batch job's) and what its
// address-space limit leaves (ulimit -v minus the address space in use; LibTorch alone takes
// most of a GB). A data set sized to the machine in such a job was killed by the kernel without
// a word, or failed in LibTorch's allocator.
uint64_t usable_memory_bytes();

// The least of limit - usage over this process's memory cgroups and their parents, read from
// proc_cgroup (/proc/self/cgroup) under cgroup_root (/sys/fs/cgroup): v2 memory.max and
// memory.current, v1 memory.limit_in_bytes and memory.usage_in_bytes under <root>/memory. Each
// path is walked up to the mount's root, which inside a container is the container's own
// cgroup. UINT64_MAX when no limit is set or readable.
uint64_t cgroup_memory_headroom(const std::string& proc_cgroup, const std::string& cgroup_root);

// How an error says memory_bytes: "this machine's 25.3 GB of memory", or, when it is what a
// limit leaves below the machine's (usable_memory_bytes()), "the 8.0 GB of memory this process
// may still use (what its cgroup's limit or ulimit -v leaves)".
std::string memory_text(uint64_t memory_bytes);

// The one rule for how many bytes of decoded images a dataset may take (it stays in memory
// while it trains): why `bytes` cannot be held ("" when they can): "take 432.0 GB decoded, more
// than this machine's 25.3 GB of memory" (memory_text). memory_bytes 0: usable_memory_bytes().
std::string image_memory_problem(double bytes, uint64_t memory_bytes = 0);

// Decodes `paths` on `threads` threads (0: hardware concurrency), resizes them to
// image_size (0: native, which must be uniform) and packs them with 3 channels if any
// image has colour, else 1. Throws std::runtime_error naming the first bad file. The first
// image sizes the set before the others are decoded: an image_memory_problem (against
// memory_bytes) is refused, saying to set (or lower) image_size, as is a grey set that a colour
// image widens to RGB when the grey and RGB buffers cannot be held together; with image_size 0, an
// image whose size differs from the first's is refused as soon as it is decoded. The threads share
// a DecodeBudget of half of memory_bytes (0: usable_memory_bytes()).
PackedImages decode_images(const std::vector<std::string>& paths, int image_size, int threads = 0,
                           uint64_t memory_bytes = 0);

// PNG bytes of a row-major height x width x channels uint8 image (channels 1-4).
// Throws std::runtime_error if stb cannot encode it.
std::string encode_png(const uint8_t* pixels, int width, int height, int channels);

}  // namespace hpt::trainer
