#include "sources.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "hpt/io/folder.hpp"
#include "hpt/trainer/idx.hpp"
#include "hpt/trainer/image_io.hpp"

namespace hpt::trainer {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return "";
  }
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// Hidden files and folders, and macOS's "__MACOSX" folder of "._x" resource forks, which its
// Archive Utility puts in every zip it makes (it was read as a class without images).
bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.rfind('.', 0) == 0 || name == "__MACOSX";
}

// The images directly in a hidden folder of a dataset's root (one named ".NET" would be a
// class but for its dot); 0 for a file, macOS's __MACOSX or an unreadable folder.
int64_t hidden_folder_images(const fs::directory_entry& entry) {
  std::error_code ec;
  if (!entry.is_directory(ec) || entry.path().filename() == "__MACOSX") {
    return 0;
  }
  int64_t n = 0;
  for (fs::directory_iterator it(entry.path(), ec), end; !ec && it != end; it.increment(ec)) {
    n += has_image_extension(it->path().filename().string()) && !is_hidden(it->path()) ? 1 : 0;
  }
  return n;
}

void require_dir(const fs::path& path, const std::string& what) {
  if (!fs::is_directory(path)) {
    throw std::runtime_error(fmt::format("{} not found: expected folder {}", what, path.string()));
  }
}

void require_file(const fs::path& path, const std::string& what) {
  if (!fs::is_regular_file(path)) {
    throw std::runtime_error(fmt::format("{} not found: expected file {}", what, path.string()));
  }
}

// A line of a text file and its 1-based number.
struct TextLine {
  size_t number;
  std::string text;
};

// Non-empty trimmed lines of a text file with their numbers; a UTF-8 byte-order mark at its
// start (Windows editors write one) is skipped. Lines end in "\n", "\r\n" or, as classic Mac
// OS wrote them, a lone "\r".
std::vector<TextLine> read_numbered_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(fmt::format("cannot read {}", path.string()));
  }
  std::vector<TextLine> lines;
  size_t number = 0;
  for (std::string text; std::getline(in, text);) {
    // UTF-16 (Notepad's "Unicode"), a gzip or other binary file: its lines would be garbage.
    if (text.find('\0') != std::string::npos ||
        (number == 0 && (text.rfind("\xFF\xFE", 0) == 0 || text.rfind("\xFE\xFF", 0) == 0))) {
      const bool utf16 = text.rfind("\xFF\xFE", 0) == 0 || text.rfind("\xFE\xFF", 0) == 0;
      throw std::runtime_error(
          fmt::format("{}:{}: not UTF-8 text ({}); save it as UTF-8", path.string(), number + 1,
                      utf16 && number == 0 ? "a UTF-16 byte-order mark" : "it holds NUL bytes"));
    }
    if (!text.empty() && text.back() == '\r') {
      text.pop_back();
    }
    for (size_t start = 0; start != std::string::npos;) {
      const size_t end = text.find('\r', start);
      std::string line = text.substr(start, end == std::string::npos ? end : end - start);
      start = end == std::string::npos ? end : end + 1;
      if (++number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) {
        line.erase(0, 3);
      }
      line = trim(line);
      if (!line.empty()) {
        lines.push_back({number, line});
      }
    }
  }
  return lines;
}

// Non-empty trimmed lines of a text file (read_numbered_lines without the numbers).
std::vector<std::string> read_lines(const fs::path& path) {
  std::vector<std::string> out;
  for (auto& line : read_numbered_lines(path)) {
    out.push_back(std::move(line.text));
  }
  return out;
}

// Image files (k_image_extensions) in folder and its subfolders, sorted by path, as Keras'
// image_dataset_from_directory lists them. Hidden files and folders (".DS_Store", macOS's
// "._x.jpg" resource forks) are skipped; links to folders are not followed. An image name that
// is not a regular file (a dangling link, a FIFO) is listed too, so that decoding it names it
// (never opened): a dataset copied with broken links is not silently smaller. The extensions of
// the other files go to others (for the "no images found" message).
std::vector<std::string> list_images(const fs::path& folder,
                                     std::map<std::string, int64_t>* others = nullptr) {
  std::vector<std::string> files;
  // Subfolders nobody may read are passed over, as os.walk does for Keras.
  for (auto it =
           fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (is_hidden(it->path())) {
      it.disable_recursion_pending();
    } else if (std::error_code ec;
               !it->is_directory(ec) && has_image_extension(it->path().filename().string())) {
      files.push_back(it->path().string());
    } else if (std::error_code ec; others != nullptr && it->is_regular_file(ec)) {
      const fs::path& file = it->path();
      ++(*others)[file.has_extension() ? lower(file.extension().string()) : "without extension"];
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The 3 commonest kinds of file in others: "4 .webp, 2 .tiff, 1 without extension".
std::string commonest_kinds(const std::map<std::string, int64_t>& others) {
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& [ext, count] : others) {
    found.emplace_back(-count, ext);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> parts;
  for (size_t i = 0; i < found.size() && i < 3; ++i) {
    parts.push_back(fmt::format("{} {}", -found[i].first, found[i].second));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// "no images found" for a folder dataset, with the 3 commonest kinds of file found instead.
std::string no_images_message(const fs::path& root, const std::map<std::string, int64_t>& others) {
  return fmt::format("no images found: expected {}/[subfolders/]*{{{}}}{}",
                     (root / "<class>").string(), fmt::join(k_image_extensions, ","),
                     others.empty() ? "" : fmt::format(" (found: {})", commonest_kinds(others)));
}

// The first two fields of an annotation line: split at each tab, as Tiny ImageNet writes it, or
// in a line without tabs (a copy retyped or reformatted) at runs of spaces; "" for a field the
// line lacks.
std::pair<std::string, std::string> file_and_class(const std::string& line) {
  const bool tabs = line.find('\t') != std::string::npos;
  const auto end1 = line.find(tabs ? '\t' : ' ');
  if (end1 == std::string::npos) {
    return {line, ""};
  }
  const auto begin2 = tabs ? end1 + 1 : line.find_first_not_of(' ', end1);
  const auto end2 = line.find(tabs ? '\t' : ' ', begin2);
  return {trim(line.substr(0, end1)),
          trim(line.substr(begin2, end2 == std::string::npos ? end2 : end2 - begin2))};
}

// Tiny ImageNet's val/images/*.JPEG labelled by val/val_annotations.txt ("file<TAB>wnid...").
PoolSource annotated_val(const fs::path& root, const std::map<std::string, int64_t>& label_of) {
  PoolSource val{"val", {}, {}, "", ""};
  const fs::path annotations = root / "val" / "val_annotations.txt";
  std::map<fs::path, size_t> line_of;  // Each image's line: one image, one class, one split.
  for (const auto& [number, line] : read_numbered_lines(annotations)) {
    const auto [file, wnid] = file_and_class(line);
    if (file.empty() || wnid.empty()) {
      throw std::runtime_error(
          fmt::format("{}:{}: malformed line '{}': expected <image file><TAB><wnid>[<TAB>...]",
                      annotations.string(), number, line));
    }
    const auto label = label_of.find(wnid);
    if (label == label_of.end()) {
      throw std::runtime_error(fmt::format("{}:{}: image {} has class {} which is not in {}",
                                           annotations.string(), number, file, wnid,
                                           (root / "wnids.txt").string()));
    }
    // A name inside val/images: "../../x.png" or "/home/u/x.png" would read files elsewhere.
    const fs::path relative = fs::path(file).lexically_normal();
    if (relative.is_absolute() || relative.empty() || relative == "." ||
        *relative.begin() == "..") {
      throw std::runtime_error(fmt::format("{}:{}: image '{}' is not a file inside {}",
                                           annotations.string(), number, file,
                                           (root / "val" / "images").string()));
    }
    const fs::path image = root / "val" / "images" / file;
    // Named here with its line (a dangling link is left for decoding to name as that).
    if (std::error_code ec; !fs::exists(fs::symlink_status(image, ec))) {
      throw std::runtime_error(fmt::format("{}:{}: image {} does not exist", annotations.string(),
                                           number, image.string()));
    }
    if (const auto [first, added] = line_of.emplace(image.lexically_normal(), number); !added) {
      throw std::runtime_error(fmt::format(
          "{}:{}: image {} is listed again (first on line {}); each image must be listed once",
          annotations.string(), number, file, first->second));
    }
    val.files.push_back(image.string());
    val.labels.push_back(label->second);
  }
  return val;
}

// The dataset format the files at root look like ("idx", "tiny-imagenet", "folder": class
// folders holding images), or "" when none.
std::string layout_of(const fs::path& root) {
  std::error_code ec;
  if (fs::is_regular_file(root / "wnids.txt", ec) && fs::is_directory(root / "train", ec)) {
    return "tiny-imagenet";
  }
  try {
    if (!find_idx_file(root.string(), "train", "images").empty()) {
      return "idx";
    }
  } catch (const std::exception&) {
    return "idx";  // Several files could be the train images, or one is a FIFO: IDX still.
  }
  if (fs::is_directory(root / "train", ec) && fs::is_directory(root / "val", ec)) {
    return "";  // Splits, not classes (a Tiny ImageNet copy without its wnids.txt).
  }
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (is_hidden(entry.path()) || !entry.is_directory(ec)) {
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(
             entry.path(), fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        break;
      }
      if (has_image_extension(it->path().filename().string()) && !is_hidden(it->path())) {
        return "folder";
      }
    }
  }
  return "";
}

// "; <root> looks like a folder dataset: give dataset.format: folder" when the files at root
// look like another format than the one given (a careless dataset.format), else "".
std::string format_hint(const fs::path& root, const std::string& format) {
  const std::string layout = layout_of(root);
  if (layout.empty() || layout == format) {
    return "";
  }
  const char* const looks = layout == "idx"             ? "holds IDX files"
                            : layout == "tiny-imagenet" ? "is a Tiny ImageNet copy"
                                                        : "holds class folders of images";
  return fmt::format("; {} {}: give dataset.format: {}", root.string(), looks, layout);
}

// A file in root holding the IDX file name in an archive hpt does not read
// ("train-images-idx3-ubyte.zip", ".bz2", ".xz", ...), or "".
std::string packed_idx_file(const fs::path& root, const std::string& name) {
  static const char* const k_archives[] = {".zip", ".bz2", ".xz",   ".7z",  ".tar",
                                           ".tgz", ".rar", ".lzma", ".zst", ".z"};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string file = lower(entry.path().filename().string());
    const std::string extension = lower(entry.path().extension().string());
    std::string stem = file.substr(0, file.size() - extension.size());
    std::replace(stem.begin(), stem.end(), '.', '-');
    if (stem.rfind(name, 0) == 0 && std::find(std::begin(k_archives), std::end(k_archives),
                                              extension) != std::end(k_archives)) {
      return entry.path().string();
    }
  }
  return "";
}

DatasetSources list_idx(const fs::path& root) {
  require_dir(root, "IDX dataset folder");
  DatasetSources sources;
  auto find = [&](const std::string& pool, const std::string& kind, bool required) {
    const std::string found = find_idx_file(root.string(), pool, kind);
    if (found.empty() && required) {
      const std::string name = idx_file_name(pool, kind);
      const std::string packed = packed_idx_file(root, name);
      throw std::runtime_error(fmt::format(
          "IDX file not found: expected {}[.gz]{}{}", (root / name).string(),
          packed.empty()
              ? ""
              : fmt::format(" (found {}: hpt reads IDX files raw or gzipped; unpack it)", packed),
          format_hint(root, "idx")));
    }
    return found;
  };
  sources.pools.push_back(
      PoolSource{"train", {}, {}, find("train", "images", true), find("train", "labels", true)});
  const std::string test_images = find("t10k", "images", false);
  const std::string test_labels = find("t10k", "labels", false);
  if (!test_images.empty() || !test_labels.empty()) {
    find("t10k", "images", true);  // Both or neither.
    find("t10k", "labels", true);
    sources.pools.push_back(PoolSource{"t10k", {}, {}, test_images, test_labels});
  }
  for (const auto& pool : sources.pools) {
    if (!idx_files_pair(pool.idx_images, pool.idx_labels)) {
      throw std::runtime_error(fmt::format(
          "the IDX files {} and {} are not one pair (their names differ beyond images/labels): "
          "the labels would be another dataset's; keep one dataset's files in {}",
          pool.idx_images, pool.idx_labels, root.string()));
    }
    sources.all_files.push_back(pool.idx_images);
    sources.all_files.push_back(pool.idx_labels);
  }
  if (fs::is_regular_file(root / "classes.txt")) {
    sources.all_files.push_back((root / "classes.txt").string());
  }
  return sources;
}

// Tiny ImageNet's classes: the wnids wnids.txt lists (sorted, each once), their labels, and
// their names (words.txt's first word for each when it has one, else the wnid).
struct TinyClasses {
  std::vector<std::string> wnids;
  std::map<std::string, int64_t> label_of;
  std::vector<std::string> names;
  std::vector<std::string> files;  // The lists read.
};

TinyClasses read_tiny_classes(const fs::path& root) {
  if (!fs::is_regular_file(root / "wnids.txt")) {
    throw std::runtime_error(fmt::format("Tiny ImageNet class list not found: expected file {}{}",
                                         (root / "wnids.txt").string(),
                                         format_hint(root, "tiny-imagenet")));
  }
  TinyClasses classes;
  classes.files = {(root / "wnids.txt").string()};
  std::vector<std::string>& wnids = classes.wnids;
  wnids = read_lines(root / "wnids.txt");
  std::sort(wnids.begin(), wnids.end());
  wnids.erase(std::unique(wnids.begin(), wnids.end()), wnids.end());
  if (wnids.empty()) {
    throw std::runtime_error(fmt::format("no classes in {}", (root / "wnids.txt").string()));
  }
  for (const auto& wnid : wnids) {
    // Each names a folder train/<wnid>: "..", "/etc" or "a/b" would lead elsewhere.
    if (wnid == "." || wnid == ".." || wnid.find('/') != std::string::npos) {
      throw std::runtime_error(
          fmt::format("{}: class '{}' is not a folder name", (root / "wnids.txt").string(), wnid));
    }
  }
  for (size_t i = 0; i < wnids.size(); ++i) {
    classes.label_of[wnids[i]] = static_cast<int64_t>(i);
  }
  std::map<std::string, std::string> words;  // words.txt is optional: names are the wnids.
  const bool has_words = fs::is_regular_file(root / "words.txt");
  if (has_words) {
    classes.files.push_back((root / "words.txt").string());
  }
  for (const auto& line : has_words ? read_lines(root / "words.txt") : std::vector<std::string>{}) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos) {
      const std::string synonyms = line.substr(tab + 1);
      words[trim(line.substr(0, tab))] = trim(synonyms.substr(0, synonyms.find(',')));
    }
  }
  for (const auto& wnid : wnids) {
    const auto it = words.find(wnid);
    classes.names.push_back(it != words.end() && !it->second.empty() ? it->second : wnid);
  }
  return classes;
}

// The images under <root>/<split>/<wnid>/ for each wnid, labelled by it: train/<wnid>/images/
// *.JPEG, or any images under the folder (val/ as a copy sorted it into class folders). A
// missing folder is refused, unless missing is given: then its wnid goes there.
PoolSource tiny_class_folders(const fs::path& root, const std::string& split,
                              const std::vector<std::string>& wnids,
                              std::vector<std::string>* missing = nullptr) {
  PoolSource pool{split, {}, {}, "", ""};
  for (size_t c = 0; c < wnids.size(); ++c) {
    const fs::path folder = root / split / wnids[c];
    if (missing != nullptr && !fs::is_directory(folder)) {
      missing->push_back(wnids[c]);
      continue;
    }
    require_dir(folder, fmt::format("Tiny ImageNet {} images of {}", split, wnids[c]));
    for (auto& file : list_images(folder)) {
      pool.files.push_back(std::move(file));
      pool.labels.push_back(static_cast<int64_t>(c));
    }
  }
  return pool;
}

// Tiny ImageNet's labelled validation images: val/images by val/val_annotations.txt, else
// val/<wnid>/ folders, one for every class.
PoolSource tiny_val_pool(const fs::path& root, const TinyClasses& classes) {
  const fs::path annotations = root / "val" / "val_annotations.txt";
  if (fs::is_regular_file(annotations)) {
    return annotated_val(root, classes.label_of);
  }
  std::vector<std::string> missing;  // wnids without a val/ folder.
  PoolSource val = tiny_class_folders(root, "val", classes.wnids, &missing);
  if (val.files.empty()) {
    require_file(annotations, "Tiny ImageNet validation labels (or val/<wnid>/ class folders)");
  }
  if (!missing.empty()) {  // A class would be left out of validation and test silently.
    throw std::runtime_error(fmt::format("{} of the {} classes have no folder {} (first: {})",
                                         missing.size(), classes.wnids.size(),
                                         (root / "val" / "<wnid>").string(), missing.front()));
  }
  return val;
}

// What Tiny ImageNet's lists leave out, as notes: classes in train/ wnids.txt does not list,
// classes without a validation image (their val and test splits would be empty), and images
// val/images holds that val_annotations.txt does not list.
std::vector<std::string> tiny_left_out_notes(const fs::path& root, const TinyClasses& classes,
                                             const PoolSource& val) {
  std::vector<std::string> notes;
  std::error_code ec;
  std::vector<std::string> unlisted_classes;
  for (const auto& entry : fs::directory_iterator(root / "train", ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && !is_hidden(entry.path()) && classes.label_of.count(name) == 0) {
      unlisted_classes.push_back(name);
    }
  }
  if (!unlisted_classes.empty()) {
    std::sort(unlisted_classes.begin(), unlisted_classes.end());
    notes.push_back(
        fmt::format("{} folders in {} are classes {} does not list, left out (first: {})",
                    unlisted_classes.size(), (root / "train").string(),
                    (root / "wnids.txt").string(), unlisted_classes.front()));
  }
  std::vector<int64_t> val_counts(classes.wnids.size(), 0);
  for (int64_t label : val.labels) {
    ++val_counts[static_cast<size_t>(label)];
  }
  if (const auto empty = std::count(val_counts.begin(), val_counts.end(), 0); empty > 0) {
    const size_t first = static_cast<size_t>(std::find(val_counts.begin(), val_counts.end(), 0) -
                                             val_counts.begin());
    notes.push_back(fmt::format(
        "{} of the {} classes have no validation image (first: {}): they are in no validation "
        "or test pair",
        empty, classes.wnids.size(), classes.wnids[first]));
  }
  const fs::path annotations = root / "val" / "val_annotations.txt";
  if (fs::is_regular_file(annotations)) {
    std::set<fs::path> listed;
    for (const auto& file : val.files) {
      listed.insert(fs::path(file).lexically_normal());
    }
    int64_t unlisted = 0;
    for (const auto& file : list_images(root / "val" / "images")) {
      unlisted += listed.count(fs::path(file).lexically_normal()) == 0 ? 1 : 0;
    }
    if (unlisted > 0) {
      notes.push_back(fmt::format("{} images in {} are not in {}, left out", unlisted,
                                  (root / "val" / "images").string(), annotations.string()));
    }
  }
  return notes;
}

std::string same_file_problem(const PoolSource& pool, const std::vector<std::string>& classes);

DatasetSources list_tiny_imagenet(const fs::path& root) {
  require_dir(root, "Tiny ImageNet folder");
  const TinyClasses classes = read_tiny_classes(root);
  DatasetSources sources;
  sources.class_names = classes.names;
  sources.all_files = classes.files;
  PoolSource train = tiny_class_folders(root, "train", classes.wnids);
  PoolSource val = tiny_val_pool(root, classes);
  if (const fs::path annotations = root / "val" / "val_annotations.txt";
      fs::is_regular_file(annotations)) {
    sources.all_files.push_back(annotations.string());
  }
  sources.notes = tiny_left_out_notes(root, classes, val);
  std::vector<bool> trained(classes.wnids.size(), false);
  for (const int64_t label : train.labels) {
    trained[static_cast<size_t>(label)] = true;
  }
  if (const auto untrained = std::count(trained.begin(), trained.end(), false); untrained > 0) {
    const size_t first =
        static_cast<size_t>(std::find(trained.begin(), trained.end(), false) - trained.begin());
    sources.notes.push_back(fmt::format(
        "{} of the {} classes have no training image in {} (first: {}): the model never "
        "learns them, and they are only in the val and test splits",
        untrained, classes.wnids.size(), (root / "train" / "<wnid>").string(),
        classes.wnids[first]));
  }
  // One file under two names, across train and val too (a validation image that is a training
  // one), as in a folder dataset.
  PoolSource both = train;
  both.files.insert(both.files.end(), val.files.begin(), val.files.end());
  both.labels.insert(both.labels.end(), val.labels.begin(), val.labels.end());
  if (const std::string note = same_file_problem(both, sources.class_names); !note.empty()) {
    sources.notes.push_back(note);
  }
  sources.pools = {train, val};
  for (const auto& pool : sources.pools) {
    sources.all_files.insert(sources.all_files.end(), pool.files.begin(), pool.files.end());
  }
  return sources;
}

// Refuses two class folders that lead to the same images: a link to another class folder, or to
// a folder inside or around one (their images would be in two classes, and could land in train
// and test both).
void refuse_shared_class_folders(const std::vector<fs::path>& folders) {
  std::vector<fs::path> real(folders.size());
  std::map<fs::path, size_t> folder_at;
  for (size_t i = 0; i < folders.size(); ++i) {
    real[i] = resolved_path(folders[i].string());
    folder_at.emplace(real[i], i);
  }
  for (size_t i = 0; i < folders.size(); ++i) {
    for (fs::path at = real[i]; !at.empty(); at = at.parent_path()) {
      const auto other = folder_at.find(at);
      if (other != folder_at.end() && other->second != i) {
        std::error_code ec;
        const size_t link = fs::is_symlink(folders[i], ec) ? i : other->second;
        throw std::runtime_error(fmt::format(
            "class folders {} and {} hold the same images ({} is a link to {}): each would be "
            "in two classes",
            folders[other->second].string(), folders[i].string(), folders[link].string(),
            real[link].string()));
      }
      if (at == at.root_path()) {
        break;
      }
    }
  }
}

// Image names in a folder dataset that are one file (links, hard links): one in two classes is
// refused (its label would be both); copies within a class are said, as a note, since each may
// land in another split (the test images would include training images). Returns the note, or
// "". Names that cannot be read are left for decoding to name.
std::string same_file_problem(const PoolSource& pool, const std::vector<std::string>& classes) {
  std::map<std::pair<dev_t, ino_t>, size_t> first_of;
  size_t copies = 0;
  std::string first_copy;
  for (size_t i = 0; i < pool.files.size(); ++i) {
    struct stat info {};
    if (::stat(pool.files[i].c_str(), &info) != 0) {
      continue;
    }
    const auto [at, added] = first_of.emplace(std::make_pair(info.st_dev, info.st_ino), i);
    if (added) {
      continue;
    }
    const size_t first = at->second;
    if (pool.labels[first] != pool.labels[i]) {
      throw std::runtime_error(fmt::format(
          "{} and {} are one file (a link): it would be an image of two classes, {} and {}",
          pool.files[first], pool.files[i], classes[static_cast<size_t>(pool.labels[first])],
          classes[static_cast<size_t>(pool.labels[i])]));
    }
    if (copies++ == 0) {
      first_copy = fmt::format("{} is {}", pool.files[i], pool.files[first]);
    }
  }
  return copies == 0 ? ""
                     : fmt::format(
                           "{} image names are links to another image of their class "
                           "(first: {}): each may land in another split",
                           copies, first_copy);
}

DatasetSources list_folder(const fs::path& root) {
  require_dir(root, "image folder dataset");
  if (fs::is_regular_file(root / "wnids.txt") && fs::is_directory(root / "train")) {
    throw std::runtime_error(fmt::format(
        "{} holds wnids.txt and train/: a Tiny ImageNet copy, whose train/val/test folders would "
        "be the classes; give dataset.format: tiny-imagenet",
        root.string()));
  }
  DatasetSources sources;
  std::vector<fs::path> folders;
  int64_t loose = 0;                        // Images in the root itself: in no class folder.
  std::vector<std::string> hidden_classes;  // Hidden folders holding images: "name (n images)".
  for (const auto& entry : fs::directory_iterator(root)) {
    std::error_code ec;
    if (is_hidden(entry.path())) {
      if (const int64_t n = hidden_folder_images(entry); n > 0) {
        hidden_classes.push_back(
            fmt::format("{} ({} images)", entry.path().filename().string(), n));
      }
      continue;
    }
    if (entry.is_symlink(ec) && !fs::exists(entry.path(), ec)) {
      throw std::runtime_error(fmt::format(
          "{} is a symbolic link to a missing path ({}): a class folder there would be left out",
          entry.path().string(), fs::read_symlink(entry.path(), ec).string()));
    }
    if (!entry.is_directory(ec)) {
      loose += has_image_extension(entry.path().filename().string()) ? 1 : 0;
    }
    if (entry.is_directory(ec)) {
      // A class folder linked to a folder holding the dataset would take every class's images.
      if (path_within(root.string(), entry.path().string())) {
        throw std::runtime_error(fmt::format(
            "class folder {} is a link to a folder holding the dataset ({}): its images would be "
            "every class's",
            entry.path().string(), resolved_path(entry.path().string())));
      }
      folders.push_back(entry.path());
    }
  }
  std::sort(folders.begin(), folders.end());
  refuse_shared_class_folders(folders);
  PoolSource pool{"all", {}, {}, "", ""};
  std::map<std::string, int64_t> others;
  for (size_t c = 0; c < folders.size(); ++c) {
    sources.class_names.push_back(folders[c].filename().string());
    for (auto& file : list_images(folders[c], &others)) {
      pool.files.push_back(std::move(file));
      pool.labels.push_back(static_cast<int64_t>(c));
    }
  }
  if (pool.files.empty()) {
    throw std::runtime_error(no_images_message(root, others) +
                             (loose > 0 ? fmt::format("; {} images lie in {} itself, in no class "
                                                      "folder",
                                                      loose, root.string())
                                        : "") +
                             format_hint(root, "folder"));
  }
  if (loose > 0) {
    sources.notes.push_back(
        fmt::format("{} images in {} itself belong to no class folder and were left out", loose,
                    root.string()));
  }
  if (!hidden_classes.empty()) {
    std::sort(hidden_classes.begin(), hidden_classes.end());
    sources.notes.push_back(fmt::format(
        "{} in {} {} hidden (a name starting with '.') and left out: {}; rename {} to make {} "
        "a class",
        hidden_classes.size() == 1 ? "a folder" : fmt::format("{} folders", hidden_classes.size()),
        root.string(), hidden_classes.size() == 1 ? "is" : "are", fmt::join(hidden_classes, ", "),
        hidden_classes.size() == 1 ? "it" : "them", hidden_classes.size() == 1 ? "it" : "each"));
  }
  if (!others.empty()) {
    int64_t count = 0;
    for (const auto& [ext, n] : others) {
      count += n;
    }
    sources.notes.push_back(fmt::format(
        "{} files in the class folders are not images hpt reads ({}) and were left out; it "
        "reads {}",
        count, commonest_kinds(others), fmt::join(k_image_extensions, " ")));
  }
  if (const std::string note = same_file_problem(pool, sources.class_names); !note.empty()) {
    sources.notes.push_back(note);
  }
  sources.all_files = pool.files;
  sources.pools = {pool};
  return sources;
}

std::vector<std::string> idx_class_names(const fs::path& root, int64_t max_label) {
  if (fs::is_regular_file(root / "classes.txt")) {
    auto names = read_lines(root / "classes.txt");
    if (static_cast<int64_t>(names.size()) <= max_label) {
      throw std::runtime_error(fmt::format("{} names {} classes but a label is {}",
                                           (root / "classes.txt").string(), names.size(),
                                           max_label));
    }
    return names;
  }
  if (max_label <= 9 && lower(root.string()).find("fashion") != std::string::npos) {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  }
  std::vector<std::string> names;
  for (int64_t c = 0; c <= max_label; ++c) {
    names.push_back(std::to_string(c));
  }
  return names;
}

// Every IDX file's header, checked before any data is read: the shapes, the image size the
// pools share (unless image_size resizes them), and the memory the images take. Returns each
// file's dims, images then labels for each pool, and sets decoded's height and width.
std::vector<std::vector<int64_t>> check_idx_headers(const DatasetSources& sources,
                                                    const fs::path& root, int image_size,
                                                    DecodedPools& decoded) {
  double bytes = 0;
  std::vector<std::vector<int64_t>> checked;
  for (const auto& source : sources.pools) {
    const std::vector<int64_t> images = read_idx_dims(source.idx_images);
    const std::vector<int64_t> labels = read_idx_dims(source.idx_labels);
    checked.push_back(images);
    checked.push_back(labels);
    if (images.size() != 3) {
      throw std::runtime_error(fmt::format("{} holds {}-d data, expected images [N, H, W]",
                                           source.idx_images, images.size()));
    }
    if (labels.size() != 1) {
      throw std::runtime_error(fmt::format("{} holds {}-d data (dims [{}]), expected labels [N]",
                                           source.idx_labels, labels.size(),
                                           fmt::join(labels, ", ")));
    }
    if (labels[0] != images[0]) {
      throw std::runtime_error(fmt::format("{} must hold {} labels to match {}", source.idx_labels,
                                           images[0], source.idx_images));
    }
    // Before any resize or cast to int: stb_image_resize aborts on an empty image.
    if (const std::string problem = image_size_problem(images[2], images[1]); !problem.empty()) {
      throw std::runtime_error(fmt::format("IDX file {} (header dims [{}]): {}", source.idx_images,
                                           fmt::join(images, ", "), problem));
    }
    const auto height = static_cast<int>(images[1]);
    const auto width = static_cast<int>(images[2]);
    if (&source == &sources.pools.front()) {
      decoded.height = height;
      decoded.width = width;
    } else if (image_size <= 0 && (height != decoded.height || width != decoded.width)) {
      throw std::runtime_error(
          fmt::format("{} holds {}x{} images but {} holds {}x{}", source.idx_images, height, width,
                      sources.pools[0].idx_images, decoded.height, decoded.width));
    }
    bytes += static_cast<double>(images[0]) * height * width;
    if (image_size > 0) {
      bytes += static_cast<double>(images[0]) * image_size * image_size;  // Resized copies.
    }
  }
  if (const std::string problem = image_memory_problem(bytes); !problem.empty()) {
    throw std::runtime_error(fmt::format("the IDX images in {} {}", root.string(), problem));
  }
  return checked;
}

// The [N, H, W] images of an IDX array, each resized to image_size x image_size.
std::vector<uint8_t> resize_idx_images(const IdxArray& images, int image_size) {
  const auto count = images.dims[0];
  const auto height = static_cast<int>(images.dims[1]);
  const auto width = static_cast<int>(images.dims[2]);
  const size_t stride = static_cast<size_t>(height) * width;
  std::vector<uint8_t> out(static_cast<size_t>(count) * image_size * image_size);
  for (int64_t i = 0; i < count; ++i) {
    DecodedImage image{width, height, 1, {}};
    const auto begin = images.data.begin() + static_cast<std::ptrdiff_t>(i * stride);
    image.pixels.assign(begin, begin + static_cast<std::ptrdiff_t>(stride));
    const DecodedImage resized = resize_image(image, image_size);
    std::memcpy(out.data() + i * resized.pixels.size(), resized.pixels.data(),
                resized.pixels.size());
  }
  return out;
}

// One pool's IDX images and labels, read and checked against the dims their headers gave
// (image_dims, label_dims), resized when image_size > 0.
ImagePool decode_idx_pool(const PoolSource& source, const std::vector<int64_t>& image_dims,
                          const std::vector<int64_t>& label_dims, int image_size) {
  IdxArray images = read_idx(source.idx_images);
  IdxArray labels = read_idx(source.idx_labels);
  if (images.dims != image_dims) {
    throw std::runtime_error(fmt::format("{} changed while it was read", source.idx_images));
  }
  if (labels.dims != label_dims) {
    throw std::runtime_error(fmt::format("{} changed while it was read", source.idx_labels));
  }
  ImagePool pool;
  pool.name = source.name;
  pool.count = images.dims[0];
  pool.labels.assign(labels.data.begin(), labels.data.end());
  if (image_size > 0 && (images.dims[1] != image_size || images.dims[2] != image_size)) {
    pool.images = resize_idx_images(images, image_size);
  } else {
    pool.images = std::move(images.data);
  }
  return pool;
}

DecodedPools decode_idx(const DatasetSources& sources, const fs::path& root, int image_size) {
  DecodedPools decoded;
  decoded.channels = 1;
  const auto checked = check_idx_headers(sources, root, image_size, decoded);
  int64_t max_label = 0;
  for (size_t p = 0; p < sources.pools.size(); ++p) {
    ImagePool pool =
        decode_idx_pool(sources.pools[p], checked[2 * p], checked[2 * p + 1], image_size);
    for (int64_t label : pool.labels) {
      max_label = std::max(max_label, label);
    }
    decoded.pools.push_back(std::move(pool));
  }
  if (image_size > 0) {
    decoded.height = decoded.width = image_size;
  }
  decoded.class_names = idx_class_names(root, max_label);
  return decoded;
}

DecodedPools decode_files(const DatasetSources& sources, int image_size) {
  std::vector<std::string> files;
  for (const auto& pool : sources.pools) {
    files.insert(files.end(), pool.files.begin(), pool.files.end());
  }
  PackedImages packed = decode_images(files, image_size);
  DecodedPools decoded;
  decoded.height = packed.height;
  decoded.width = packed.width;
  decoded.channels = packed.channels;
  decoded.class_names = sources.class_names;
  const size_t stride = static_cast<size_t>(packed.height) * packed.width * packed.channels;
  // The later pools' images are copied out and the first pool keeps the buffer, cut to its own
  // (a copy of every pool took twice the set's memory).
  size_t offset = sources.pools.front().files.size();
  for (const auto& source : sources.pools) {
    ImagePool pool;
    pool.name = source.name;
    pool.count = static_cast<int64_t>(source.files.size());
    pool.labels = source.labels;
    if (&source != &sources.pools.front()) {
      const auto begin = packed.pixels.begin() + static_cast<std::ptrdiff_t>(offset * stride);
      pool.images.assign(begin, begin + static_cast<std::ptrdiff_t>(source.files.size() * stride));
      offset += source.files.size();
    }
    decoded.pools.push_back(std::move(pool));
  }
  packed.pixels.resize(sources.pools.front().files.size() * stride);
  decoded.pools.front().images = std::move(packed.pixels);
  return decoded;
}

}  // namespace

DatasetSources list_sources(const std::string& format, const std::string& path) {
  if (format == "idx") {
    return list_idx(path);
  }
  if (format == "tiny-imagenet") {
    return list_tiny_imagenet(path);
  }
  if (format == "folder") {
    return list_folder(path);
  }
  throw std::invalid_argument(
      fmt::format("dataset format must be 'idx', 'tiny-imagenet' or 'folder', got '{}'", format));
}

DecodedPools decode_sources(const DatasetSources& sources, const std::string& path,
                            int image_size) {
  const bool is_idx = !sources.pools.empty() && !sources.pools[0].idx_images.empty();
  return is_idx ? decode_idx(sources, path, image_size) : decode_files(sources, image_size);
}

}  // namespace hpt::trainer
