#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "catch_torch.hpp"
#include "dataset_fixtures.hpp"
#include "hpt/trainer/dataset.hpp"

using namespace hpt::trainer;
using hpt::trainer::testing::TempDir;
using hpt::trainer::testing::write_png;

namespace {

std::vector<uint8_t> image_bytes(const ImageSet& set, int64_t i) {
  const auto image = set.images[i].contiguous();
  return std::vector<uint8_t>(image.data_ptr<uint8_t>(), image.data_ptr<uint8_t>() + image.numel());
}

int64_t label_at(const ImageSet& set, int64_t i) { return set.labels[i].item<int64_t>(); }

// Counts of each label in a split.
std::vector<int64_t> counts(const ImageSet& set, int64_t classes) {
  return class_counts(set, static_cast<size_t>(classes));
}

}  // namespace

// IDX (gz and raw): train pool kept whole in order, t10k split evenly and stratified.
TEST_CASE("idx datasets load pixels, labels and the even held-out split", "[sources][idx]") {
  for (bool gzip : {true, false}) {
    TempDir dir;
    testing::write_idx_dataset(dir.path(), gzip, true);
    const Dataset data = load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 5, ""});
    CHECK(data.class_names == std::vector<std::string>{"0", "1", "2"});
    REQUIRE(data.train.size() == 30);
    CHECK(data.train.images.sizes() == torch::IntArrayRef({30, 4, 5, 1}));
    for (int64_t i = 0; i < 30; ++i) {
      REQUIRE(image_bytes(data.train, i) == testing::pattern(static_cast<int>(i), 5, 4, 1));
      REQUIRE(label_at(data.train, i) == i % 3);
    }
    CHECK(counts(data.val, 3) == std::vector<int64_t>{2, 2, 2});
    CHECK(counts(data.test, 3) == std::vector<int64_t>{2, 2, 2});
    std::set<int> ids;
    for (const ImageSet* set : {&data.val, &data.test}) {
      for (int64_t i = 0; i < set->size(); ++i) {
        const int id = testing::pattern_id(image_bytes(*set, i)[0]);
        REQUIRE(image_bytes(*set, i) == testing::pattern(id, 5, 4, 1));
        REQUIRE(label_at(*set, i) == (id - 100) % 3);
        ids.insert(id);
      }
    }
    CHECK(ids.size() == 12);  // Disjoint and complete.
  }
}

// Without t10k files the train pool is split by the fractions; classes.txt names classes;
// image_size resizes.
TEST_CASE("idx without t10k splits one pool, names classes, resizes", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), true, false);
  testing::write_text(dir.path() / "classes.txt", "zero\none\ntwo\n");
  const Dataset data = load_dataset({"idx", dir.str(), 8, 0.2, 0.2, 1, ""});
  CHECK(data.class_names == std::vector<std::string>{"zero", "one", "two"});
  CHECK(data.train.size() == 18);
  CHECK(counts(data.val, 3) == std::vector<int64_t>{2, 2, 2});
  CHECK(counts(data.test, 3) == std::vector<int64_t>{2, 2, 2});
  CHECK(data.train.images.sizes() == torch::IntArrayRef({18, 8, 8, 1}));
}

// MNIST as Kaggle and Windows unpack it ("train-images.idx3-ubyte", "t10k-...") loads the same.
TEST_CASE("idx datasets with MNIST's other file names", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), false, true);
  for (const char* pool : {"train", "t10k"}) {
    for (const char* kind : {"images-idx3", "labels-idx1"}) {
      std::string name = std::string(pool) + "-" + kind + "-ubyte";
      std::string dotted = name;
      dotted[dotted.find("-idx")] = '.';
      std::filesystem::rename(dir.path() / name, dir.path() / dotted);
    }
  }
  const Dataset data = load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 5, ""});
  CHECK(data.train.size() == 30);
  CHECK(data.val.size() + data.test.size() == 12);
}

// An images file and a labels file of two datasets are refused, not trained on as a pair.
TEST_CASE("idx images and labels of two datasets are refused", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), false, false);
  std::filesystem::rename(dir.path() / "train-labels-idx1-ubyte",
                          dir.path() / "fashion-train-labels-idx1-ubyte");
  CHECK_THROWS_WITH(load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 5, ""}),
                    Catch::Contains("are not one pair") &&
                        Catch::Contains(dir.str("fashion-train-labels-idx1-ubyte")));
}

// Every IDX header is checked before any data is read: a t10k file of another image size, a
// label count that differs, data that is not images, each named even while the train images'
// data is corrupt (it was read, all of it, first).
TEST_CASE("idx headers are checked before the data", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), false, true);
  const auto train = dir.path() / "train-images-idx3-ubyte";
  testing::write_idx(train.string() + ".gz", {30, 4, 5}, std::vector<uint8_t>(600, 7), true);
  std::filesystem::remove(train);
  std::filesystem::resize_file(train.string() + ".gz",
                               std::filesystem::file_size(train.string() + ".gz") - 12);
  const auto load = [&] { return load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 0, ""}); };
  CHECK_THROWS_WITH(load(), Catch::Contains("truncated or corrupt"));  // Its data, at last.
  const auto t10k = dir.path() / "t10k-images-idx3-ubyte";
  testing::write_idx(t10k, {12, 6, 5}, std::vector<uint8_t>(360, 1), false);
  CHECK_THROWS_WITH(load(),
                    t10k.string() + " holds 6x5 images but " + train.string() + ".gz holds 4x5");
  testing::write_idx(t10k, {11, 4, 5}, std::vector<uint8_t>(220, 1), false);
  CHECK_THROWS_WITH(
      load(), dir.str("t10k-labels-idx1-ubyte") + " must hold 11 labels to match " + t10k.string());
  testing::write_idx(t10k, {12, 20}, std::vector<uint8_t>(240, 1), false);
  CHECK_THROWS_WITH(load(), t10k.string() + " holds 2-d data, expected images [N, H, W]");
}

// Missing IDX files are errors naming the expected path; so is half a t10k pair.
TEST_CASE("idx missing files are named", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), false, true);
  std::filesystem::remove(dir.path() / "t10k-labels-idx1-ubyte");
  CHECK_THROWS_WITH(load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("t10k-labels-idx1-ubyte")));
  std::filesystem::remove(dir.path() / "train-images-idx3-ubyte");
  CHECK_THROWS_WITH(load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("train-images-idx3-ubyte")));
}

// A labels file of [N, 1] is named as 2-d data (it read "must hold N labels" while it did), and
// an IDX file left zipped is named with what to do (it read only "not found").
TEST_CASE("idx labels of other dims and zipped files are named", "[sources][idx]") {
  TempDir dir;
  testing::write_idx_dataset(dir.path(), false, false);
  const auto labels = dir.path() / "train-labels-idx1-ubyte";
  testing::write_idx(labels, {30, 1}, std::vector<uint8_t>(30, 1), false);
  CHECK_THROWS_WITH(load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    labels.string() + " holds 2-d data (dims [30, 1]), expected labels [N]");
  std::filesystem::rename(labels, dir.path() / "train-labels.idx1-ubyte.zip");
  CHECK_THROWS_WITH(load_dataset({"idx", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    "IDX file not found: expected " + labels.string() + "[.gz] (found " +
                        dir.str("train-labels.idx1-ubyte.zip") +
                        ": hpt reads IDX files raw or gzipped; unpack it)");
}

// A dataset given with the wrong dataset.format says which format its files look like (each
// said only what the given format expected: "IDX file not found", "no images found").
TEST_CASE("a dataset of another format names the format it looks like", "[sources]") {
  TempDir idx;
  testing::write_idx_dataset(idx.path(), true, true);
  TempDir folder;
  testing::write_folder_dataset(folder.path());
  TempDir tiny;
  testing::write_tiny_imagenet(tiny.path());
  const auto load = [](const std::string& format, const TempDir& dir) {
    return load_dataset({format, dir.str(), 0, 0.1, 0.1, 0, ""});
  };
  CHECK_THROWS_WITH(load("folder", idx), Catch::EndsWith("; " + idx.str() +
                                                         " holds IDX files: give dataset.format: "
                                                         "idx"));
  CHECK_THROWS_WITH(
      load("tiny-imagenet", idx),
      Catch::EndsWith("; " + idx.str() + " holds IDX files: give dataset.format: idx"));
  CHECK_THROWS_WITH(load("idx", folder),
                    "IDX file not found: expected " + folder.str("train-images-idx3-ubyte") +
                        "[.gz]; " + folder.str() +
                        " holds class folders of images: give dataset.format: folder");
  CHECK_THROWS_WITH(load("tiny-imagenet", folder),
                    Catch::EndsWith("holds class folders of images: give dataset.format: folder"));
  CHECK_THROWS_WITH(load("idx", tiny), Catch::EndsWith("; " + tiny.str() +
                                                       " is a Tiny ImageNet copy: give "
                                                       "dataset.format: tiny-imagenet"));
  // Without its wnids.txt a Tiny ImageNet copy is not called a folder dataset (its classes would
  // be train, val and test).
  std::filesystem::remove(tiny.path() / "wnids.txt");
  CHECK_THROWS_WITH(load("tiny-imagenet", tiny),
                    "Tiny ImageNet class list not found: expected file " + tiny.str("wnids.txt"));
}

// Class folders: sorted class names, PNG exact (grey replicated to RGB), JPEG close,
// case-insensitive extensions, other files ignored, stratified fractions.
TEST_CASE("folder datasets load PNG exactly and JPEG approximately", "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path());
  const Dataset data = load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 3, ""});
  CHECK(data.class_names == std::vector<std::string>{"a_cat", "b_dog", "c_eel"});
  CHECK(counts(data.train, 3) == std::vector<int64_t>{3, 3, 3});
  CHECK(counts(data.val, 3) == std::vector<int64_t>{1, 1, 1});
  CHECK(counts(data.test, 3) == std::vector<int64_t>{1, 1, 1});
  std::set<int> ids;
  for (const ImageSet* set : {&data.train, &data.val, &data.test}) {
    REQUIRE(set->images.size(3) == 3);
    for (int64_t i = 0; i < set->size(); ++i) {
      const auto pixels = image_bytes(*set, i);
      const int64_t label = label_at(*set, i);
      if (label == 0) {
        const int id = testing::pattern_id(pixels[0]);
        REQUIRE(pixels == testing::pattern(id, 6, 6, 3));
        ids.insert(id);
      } else if (label == 1) {
        const int id = testing::pattern_id(pixels[0]);
        const auto grey = testing::pattern(id, 6, 6, 1);
        for (size_t p = 0; p < grey.size(); ++p) {
          REQUIRE(pixels[3 * p] == grey[p]);
          REQUIRE(pixels[3 * p + 2] == grey[p]);
        }
        ids.insert(id);
      } else {
        const int id = testing::flat_id(pixels[0]);
        const auto expected = testing::flat(id, 6, 6, 3);
        for (size_t p = 0; p < pixels.size(); ++p) {
          REQUIRE(std::abs(int{pixels[p]} - int{expected[p]}) <= 3);
        }
        ids.insert(id);
      }
    }
  }
  CHECK(ids.size() == 15);
  CHECK(*ids.begin() == 0);
  CHECK(*ids.rbegin() == 14);
}

// Folder errors: a corrupt image and a missing root are named; unknown formats rejected.
TEST_CASE("folder errors name the culprit", "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path());
  testing::write_text(dir.path() / "b_dog" / "img2.png", "garbage");
  CHECK_THROWS_WITH(load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}),
                    Catch::Contains(dir.str("b_dog/img2.png")));
  CHECK_THROWS_WITH(load_dataset({"folder", dir.str("nope"), 0, 0.2, 0.2, 0, ""}),
                    Catch::Contains(dir.str("nope")));
  CHECK_THROWS_AS(load_dataset({"csv", dir.str(), 0, 0.2, 0.2, 0, ""}), std::invalid_argument);
  // Sizes differ without image_size: the odd file is named; with image_size all fit.
  TempDir mixed;
  testing::write_png(mixed.path() / "a" / "0.png", 4, 4, 1, testing::pattern(0, 4, 4, 1));
  testing::write_png(mixed.path() / "a" / "1.png", 5, 4, 1, testing::pattern(1, 5, 4, 1));
  CHECK_THROWS_WITH(load_dataset({"folder", mixed.str(), 0, 0.0, 0.0, 0, ""}),
                    Catch::Contains(mixed.str("a/1.png")));
  CHECK(load_dataset({"folder", mixed.str(), 3, 0.0, 0.0, 0, ""}).train.images.size(1) == 3);
  // An image name that is a dangling link or a FIFO is named, not skipped (the dataset was
  // silently smaller); the FIFO is never opened.
  std::filesystem::create_symlink(mixed.path() / "gone.png", mixed.path() / "a" / "2.png");
  CHECK_THROWS_WITH(
      load_dataset({"folder", mixed.str(), 3, 0.0, 0.0, 0, ""}),
      mixed.str("a/2.png") + ": a symbolic link to a missing file (" + mixed.str("gone.png") + ")");
  std::filesystem::remove(mixed.path() / "a" / "2.png");
  REQUIRE(::mkfifo(mixed.str("a/3.png").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(
      load_dataset({"folder", mixed.str(), 3, 0.0, 0.0, 0, ""}),
      "cannot decode image " + mixed.str("a/3.png") + ": not a regular file (a FIFO)");
}

// Class folders are read as Keras' image_dataset_from_directory and torchvision's ImageFolder
// read them: images in subfolders count (a Tiny ImageNet train/ folder is a folder dataset),
// every format decode_image reads (BMP, PGM, ...) is listed, hidden files and folders are not
// (macOS's "._x.jpg" resource forks would be corrupt images).
TEST_CASE("folder datasets take subfolders and every readable format", "[sources][folder]") {
  TempDir dir;
  write_png(dir.path() / "a" / "sub" / "deeper" / "0.png", 4, 4, 1, testing::pattern(0, 4, 4, 1));
  REQUIRE(stbi_write_bmp(dir.str("a/1.BMP").c_str(), 4, 4, 3, testing::pattern(1, 4, 4, 3).data()));
  auto grey = testing::pattern(2, 4, 4, 1);
  testing::write_text(dir.path() / "b" / "2.pgm",
                      "P5\n4 4\n255\n" + std::string(grey.begin(), grey.end()));
  write_png(dir.path() / "b" / "3.png", 4, 4, 3, testing::pattern(3, 4, 4, 3));
  testing::write_text(dir.path() / "b" / "._3.png", "resource fork, not an image");
  write_png(dir.path() / "b" / ".thumbs" / "9.png", 4, 4, 3, testing::pattern(9, 4, 4, 3));
  const Dataset data = load_dataset({"folder", dir.str(), 0, 0.0, 0.0, 0, ""});
  CHECK(data.class_names == std::vector<std::string>{"a", "b"});
  REQUIRE(data.train.size() == 4);
  std::set<int> ids;
  for (int64_t i = 0; i < 4; ++i) {
    const int id = testing::pattern_id(image_bytes(data.train, i)[0]);
    CHECK(label_at(data.train, i) == id / 2);
    ids.insert(id);
  }
  CHECK(ids == std::set<int>{0, 1, 2, 3});

  // Tiny ImageNet's train/<wnid>/images/*.JPEG as class folders.
  TempDir tin;
  testing::write_tiny_imagenet(tin.path());
  const Dataset train = load_dataset({"folder", tin.str("train"), 0, 0.25, 0.25, 0, ""});
  CHECK(train.class_names == std::vector<std::string>{"n01", "n02", "n03"});
  CHECK(train.train.size() + train.val.size() + train.test.size() == 12);
}

// A class folder linked to the dataset's own root is refused (it would take every class's
// images); a subfolder nobody may read is passed over (root reads everything: checked only
// when the test does not run as root).
TEST_CASE("folder datasets: a class linked to the root, an unreadable subfolder",
          "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path());
  std::filesystem::create_directory_symlink(dir.path(), dir.path() / "d_all");
  CHECK_THROWS_WITH(load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}),
                    Catch::Contains("class folder " + dir.str("d_all") + " is a link"));
  std::filesystem::remove(dir.path() / "d_all");
  write_png(dir.path() / "a_cat" / "locked" / "x.png", 6, 6, 3, testing::pattern(50, 6, 6, 3));
  std::filesystem::permissions(dir.path() / "a_cat" / "locked", std::filesystem::perms::none);
  if (::geteuid() != 0) {
    CHECK(load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}).train.size() == 9);
  }
  std::filesystem::permissions(dir.path() / "a_cat" / "locked", std::filesystem::perms::owner_all);
}

// A class folder linked to another class folder (or into one) is refused: the same images would
// be two classes' (they loaded, silently). A link loop that is not an image is passed over as
// other files are (it stopped the listing: "Too many levels of symbolic links"); macOS's
// __MACOSX folder is not a class (it was one, without images).
TEST_CASE("folder datasets: class folders sharing images, link loops, __MACOSX",
          "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path());
  const auto load = [&] { return load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}); };
  std::filesystem::create_directory_symlink("a_cat", dir.path() / "d_copy");
  CHECK_THROWS_WITH(load(), "class folders " + dir.str("a_cat") + " and " + dir.str("d_copy") +
                                " hold the same images (" + dir.str("d_copy") + " is a link to " +
                                dir.str("a_cat") + "): each would be in two classes");
  std::filesystem::remove(dir.path() / "d_copy");
  write_png(dir.path() / "b_dog" / "sub" / "x.png", 6, 6, 1, testing::pattern(40, 6, 6, 1));
  std::filesystem::create_directory_symlink(dir.path() / "b_dog" / "sub", dir.path() / "d_sub");
  CHECK_THROWS_WITH(load(), Catch::Contains("class folders " + dir.str("b_dog") + " and " +
                                            dir.str("d_sub") + " hold the same images"));
  std::filesystem::remove(dir.path() / "d_sub");
  std::filesystem::remove_all(dir.path() / "b_dog" / "sub");

  std::filesystem::create_symlink("loop.txt", dir.path() / "a_cat" / "loop.txt");
  testing::write_text(dir.path() / "__MACOSX" / "a_cat" / "._img0.PNG", "resource fork");
  const Dataset data = load();
  CHECK(data.class_names == std::vector<std::string>{"a_cat", "b_dog", "c_eel"});
  CHECK(data.train.size() + data.val.size() + data.test.size() == 15);
}

// An image name linked to an image of another class is refused (the one image had two labels);
// a link to an image of its own class is said, as it may land in another split.
TEST_CASE("folder datasets: one file under two names", "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path());
  const auto load = [&] { return load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}); };
  std::filesystem::create_symlink("../a_cat/img0.PNG", dir.path() / "b_dog" / "img9.png");
  CHECK_THROWS_WITH(load(), dir.str("a_cat/img0.PNG") + " and " + dir.str("b_dog/img9.png") +
                                " are one file (a link): it would be an image of two classes, "
                                "a_cat and b_dog");
  std::filesystem::remove(dir.path() / "b_dog" / "img9.png");
  std::filesystem::create_hard_link(dir.path() / "b_dog" / "img0.png",
                                    dir.path() / "b_dog" / "img9.png");
  const Dataset data = load();
  REQUIRE(data.notes.size() == 3);  // And .hidden/, and notes.txt, which is not an image.
  CHECK(data.notes[2] == "1 image names are links to another image of their class (first: " +
                             dir.str("b_dog/img9.png") + " is " + dir.str("b_dog/img0.png") +
                             "): each may land in another split");
}

// A folder of images hpt cannot decode says what it found instead.
TEST_CASE("no images found names what the folders hold", "[sources][folder]") {
  TempDir dir;
  for (int i = 0; i < 3; ++i) {
    testing::write_text(dir.path() / "cat" / (std::to_string(i) + ".webp"), "RIFF");
  }
  testing::write_text(dir.path() / "dog" / "notes.txt", "x");
  testing::write_text(dir.path() / "dog" / "README", "x");
  CHECK_THROWS_WITH(load_dataset({"folder", dir.str(), 0, 0.2, 0.2, 0, ""}),
                    Catch::Contains("no images found: expected " + dir.str("<class>")) &&
                        Catch::Contains(".jpg,.jpeg,.png,.bmp") &&
                        Catch::Contains("(found: 3 .webp, 1 .txt, 1 without extension)"));
}

// Tiny ImageNet: classes sorted by wnid, named by the first synonym; train/ is train,
// val/ split evenly by class; labels follow val_annotations.txt.
TEST_CASE("tiny-imagenet layout", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const Dataset data = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""});
  CHECK(data.class_names == std::vector<std::string>{"goldfish", "tabby", "lemon"});
  REQUIRE(data.train.size() == 12);
  CHECK(data.train.images.sizes() == torch::IntArrayRef({12, 8, 8, 3}));
  for (int64_t i = 0; i < 12; ++i) {
    REQUIRE(testing::flat_id(image_bytes(data.train, i)[0]) == i);
    REQUIRE(label_at(data.train, i) == i / 4);
  }
  CHECK(counts(data.val, 3) == std::vector<int64_t>{1, 1, 1});
  CHECK(counts(data.test, 3) == std::vector<int64_t>{1, 1, 1});
  for (const ImageSet* set : {&data.val, &data.test}) {
    for (int64_t i = 0; i < set->size(); ++i) {
      REQUIRE(testing::flat_id(image_bytes(*set, i)[0]) == label_at(*set, i));
    }
  }
}

// One file under a train and a val name (a hard link): of two classes it is refused, of one
// class said (a validation image that is a training one), as a folder dataset does; Tiny
// ImageNet took both without a word.
TEST_CASE("tiny-imagenet refuses one file in two classes", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const std::filesystem::path val0 = dir.path() / "val" / "images" / "val_0.JPEG";  // Class 0.
  std::filesystem::remove(val0);
  std::filesystem::create_hard_link(dir.path() / "train" / "n01" / "images" / "n01_1.JPEG", val0);
  const Dataset same_class = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""});
  CHECK_THAT(fmt::format("{}", fmt::join(same_class.notes, "\n")),
             Catch::Contains("1 image names are links to another image of their class"));
  std::filesystem::remove(val0);
  std::filesystem::create_hard_link(dir.path() / "train" / "n02" / "images" / "n02_1.JPEG", val0);
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""}),
                    Catch::Contains("are one file (a link): it would be an image of two classes"));
}

// A class whose train/<wnid>/images/ holds no image is said: it is in val and test only, and
// the model never learns it (it loaded without a word).
TEST_CASE("tiny-imagenet says a class without training images", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  std::filesystem::remove_all(dir.path() / "train" / "n02" / "images");
  std::filesystem::create_directories(dir.path() / "train" / "n02" / "images");
  const Dataset data = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""});
  CHECK_THAT(fmt::format("{}", fmt::join(data.notes, "\n")),
             Catch::Contains("1 of the 3 classes have no training image in " + dir.str("train") +
                             "/<wnid> (first: n02)"));
}

// Copies of Tiny ImageNet that sorted val/ into class folders (no val_annotations.txt) or
// dropped words.txt load too: the labels come from the folders, the names are the wnids.
TEST_CASE("tiny-imagenet with val class folders and no words.txt", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  namespace fs = std::filesystem;
  fs::remove(dir.path() / "words.txt");
  fs::remove(dir.path() / "val" / "val_annotations.txt");
  for (int i = 0; i < 6; ++i) {
    const std::string wnid = "n0" + std::to_string(i / 2 + 1);
    const std::string file = "val_" + std::to_string(i) + ".JPEG";
    fs::create_directories(dir.path() / "val" / wnid);
    fs::rename(dir.path() / "val" / "images" / file, dir.path() / "val" / wnid / file);
  }
  const Dataset data = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""});
  CHECK(data.class_names == std::vector<std::string>{"n01", "n02", "n03"});
  CHECK(data.train.size() == 12);
  CHECK(counts(data.val, 3) == std::vector<int64_t>{1, 1, 1});
  CHECK(counts(data.test, 3) == std::vector<int64_t>{1, 1, 1});
  for (const ImageSet* set : {&data.val, &data.test}) {
    for (int64_t i = 0; i < set->size(); ++i) {
      REQUIRE(testing::flat_id(image_bytes(*set, i)[0]) == label_at(*set, i));
    }
  }
  // One class without its val/ folder would be left out of validation and test: refused.
  fs::rename(dir.path() / "val" / "n03", dir.path() / "n03-elsewhere");
  CHECK_THROWS_WITH(
      load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""}),
      Catch::Contains("1 of the 3 classes have no folder") && Catch::Contains("(first: n03)"));
  fs::rename(dir.path() / "n03-elsewhere", dir.path() / "val" / "n03");
  // Neither labels file nor class folders: the file is named.
  for (int i = 1; i <= 3; ++i) {
    fs::remove_all(dir.path() / "val" / ("n0" + std::to_string(i)));
  }
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""}),
                    Catch::Contains(dir.str("val/val_annotations.txt")) &&
                        Catch::Contains("val/<wnid>/ class folders"));
}

// Tiny ImageNet errors: missing wnids.txt, an annotated image that is missing, a corrupt
// train JPEG, an unknown wnid in the annotations.
TEST_CASE("tiny-imagenet errors name the file", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  std::filesystem::remove(dir.path() / "val" / "images" / "val_3.JPEG");
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("val/images/val_3.JPEG")));
  testing::write_jpg(dir.path() / "val" / "images" / "val_3.JPEG", 8, 8, 3,
                     testing::flat(1, 8, 8, 3));
  testing::write_text(dir.path() / "train" / "n02" / "images" / "n02_1.JPEG", "broken");
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("train/n02/images/n02_1.JPEG")));
  testing::write_text(dir.path() / "val" / "val_annotations.txt", "val_0.JPEG\tn07\t0\t0\t1\t1\n");
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains("n07"));
  std::filesystem::remove(dir.path() / "wnids.txt");
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("wnids.txt")));
}

// val_annotations.txt as copies change it: a listed image that is missing is named with its
// line (it was "file not found", no line); fields split by spaces instead of tabs, and lines
// ending in a lone "\r" (classic Mac OS), load as the original does; a line of one field is
// named, saying what a line holds.
TEST_CASE("tiny-imagenet annotations as copies change them", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const auto annotations = dir.path() / "val" / "val_annotations.txt";
  const std::string listed = testing::read_text(annotations);
  const auto load = [&] { return load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""}); };
  const auto expect_whole = [&](const Dataset& data) {
    CHECK(data.class_names == std::vector<std::string>{"goldfish", "tabby", "lemon"});
    CHECK(counts(data.val, 3) == std::vector<int64_t>{1, 1, 1});
    CHECK(counts(data.test, 3) == std::vector<int64_t>{1, 1, 1});
  };
  std::filesystem::rename(dir.path() / "val" / "images" / "val_3.JPEG", dir.path() / "kept");
  CHECK_THROWS_WITH(load(), annotations.string() + ":4: image " + dir.str("val/images/val_3.JPEG") +
                                " does not exist");
  std::filesystem::rename(dir.path() / "kept", dir.path() / "val" / "images" / "val_3.JPEG");

  std::string spaced = listed;
  for (size_t at; (at = spaced.find('\t')) != std::string::npos;) {
    spaced.replace(at, 1, "  ");
  }
  testing::write_text(annotations, spaced);
  expect_whole(load());

  for (const auto& file : {dir.path() / "wnids.txt", annotations}) {
    std::string text = testing::read_text(file);
    std::replace(text.begin(), text.end(), '\n', '\r');
    testing::write_text(file, text);
  }
  expect_whole(load());

  testing::write_text(annotations, listed + "val_9.JPEG\n");
  CHECK_THROWS_WITH(load(), annotations.string() +
                                ":7: malformed line 'val_9.JPEG': expected <image "
                                "file><TAB><wnid>[<TAB>...]");
}

// An image listed twice in val_annotations.txt (with one class or two) would land in both
// validation and test: refused naming the file and the line of the repeat.
TEST_CASE("tiny-imagenet annotations listing an image twice", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const auto annotations = dir.path() / "val" / "val_annotations.txt";
  const std::string listed = testing::read_text(annotations);
  for (const char* repeat : {"val_0.JPEG\tn01\t0\t0\t7\t7\n", "val_0.JPEG\tn02\t0\t0\t7\t7\n"}) {
    testing::write_text(annotations, listed + repeat);
    CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                      dir.str("val/val_annotations.txt") +
                          ":7: image val_0.JPEG is listed again (first on line 1); each image "
                          "must be listed once");
  }
}

// Names in the lists lead to files inside the dataset only: an annotation "../../x.JPEG" or
// "/home/u/x.JPEG", a wnid ".." or "/etc", are refused naming the file (and line).
TEST_CASE("tiny-imagenet lists naming files outside the dataset", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const auto annotations = dir.path() / "val" / "val_annotations.txt";
  const std::string listed = testing::read_text(annotations);
  const std::string outside = dir.str("train/n01/images/n01_0.JPEG");  // An image, elsewhere.
  for (const std::string& file : {std::string("../../train/n01/images/n01_0.JPEG"), outside}) {
    testing::write_text(annotations, listed + file + "\tn01\t0\t0\t7\t7\n");
    CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                      dir.str("val/val_annotations.txt") + ":7: image '" + file +
                          "' is not a file inside " + dir.str("val/images"));
  }
  testing::write_text(annotations, listed);
  const std::string wnids = testing::read_text(dir.path() / "wnids.txt");
  for (const char* wnid : {"..", "/etc", "n01/images"}) {
    testing::write_text(dir.path() / "wnids.txt", wnids + wnid + "\n");
    CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                      dir.str("wnids.txt") + ": class '" + wnid + "' is not a folder name");
  }
}

// A UTF-8 byte-order mark at the start of wnids.txt or val_annotations.txt is skipped (it made
// the first wnid "\xEF\xBB\xBFn03", a class of its own with no images).
TEST_CASE("tiny-imagenet lists starting with a byte-order mark", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  const std::string bom = "\xEF\xBB\xBF";
  for (const auto& file : {dir.path() / "wnids.txt", dir.path() / "val" / "val_annotations.txt"}) {
    testing::write_text(file, bom + testing::read_text(file));
  }
  const Dataset data = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 2, ""});
  CHECK(data.class_names == std::vector<std::string>{"goldfish", "tabby", "lemon"});
  CHECK(counts(data.val, 3) == std::vector<int64_t>{1, 1, 1});
  CHECK(counts(data.test, 3) == std::vector<int64_t>{1, 1, 1});
}

// A class folder whose name starts with '.' is hidden (as a shell's ls hides it) and left out,
// said with its images (".NET" lost a whole class without a word); hidden folders without
// images (.git) and macOS's __MACOSX say nothing.
TEST_CASE("folder datasets say which hidden folders they leave out", "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path() / "data");
  std::filesystem::create_directories(dir.path() / "data" / ".NET");
  std::filesystem::create_directories(dir.path() / "data" / ".git" / "objects");
  std::filesystem::create_directories(dir.path() / "data" / "__MACOSX");
  testing::write_text(dir.path() / "data" / "__MACOSX" / "a.png", "x");
  for (int i = 0; i < 3; ++i) {
    testing::write_png(dir.path() / "data" / ".NET" / (std::to_string(i) + ".png"), 6, 6, 3,
                       testing::pattern(i, 6, 6, 3));
  }
  const Dataset data = load_dataset({"folder", dir.str("data"), 0, 0.2, 0.2, 0, ""});
  CHECK(data.class_names.size() == 3);
  REQUIRE(data.notes.size() == 2);  // And notes.txt, which is not an image.
  CHECK(data.notes[0] == "2 folders in " + dir.str("data") +
                             " are hidden (a name starting with '.') and left out: .NET (3 "
                             "images), .hidden (1 images); rename them to make each a class");
}

// What a folder listing leaves out is said, not silent: files in formats hpt does not read,
// images in the root (no class folder); a class folder linked to a missing path and a Tiny
// ImageNet copy read as folders are refused.
TEST_CASE("folder datasets say what they leave out", "[sources][folder]") {
  TempDir dir;
  testing::write_folder_dataset(dir.path() / "data");
  testing::write_text(dir.path() / "data" / "b_dog" / "x.webp", "RIFF");
  testing::write_png(dir.path() / "data" / "loose.png", 6, 6, 3, testing::pattern(1, 6, 6, 3));
  const Dataset data = load_dataset({"folder", dir.str("data"), 0, 0.2, 0.2, 0, ""});
  CHECK(data.train.size() + data.val.size() + data.test.size() == 15);
  REQUIRE(data.notes.size() == 3);
  CHECK(data.notes[0] ==
        "1 images in " + dir.str("data") + " itself belong to no class folder and were left out");
  CHECK_THAT(data.notes[1], Catch::StartsWith("a folder in " + dir.str("data") + " is hidden"));
  CHECK_THAT(data.notes[2],
             Catch::StartsWith("2 files in the class folders are not images hpt reads (1 .txt, "
                               "1 .webp) and were left out; it reads .jpg .jpeg .png"));
  std::filesystem::create_directory_symlink("/nonexistent/class", dir.path() / "data" / "d_gone");
  CHECK_THROWS_WITH(load_dataset({"folder", dir.str("data"), 0, 0.2, 0.2, 0, ""}),
                    dir.str("data/d_gone") +
                        " is a symbolic link to a missing path "
                        "(/nonexistent/class): a class folder there would be "
                        "left out");
  TempDir tiny;
  testing::write_tiny_imagenet(tiny.path());
  CHECK_THROWS_WITH(load_dataset({"folder", tiny.str(), 0, 0.2, 0.2, 0, ""}),
                    Catch::Contains("a Tiny ImageNet copy") &&
                        Catch::Contains("give dataset.format: tiny-imagenet"));
}

// A list saved as UTF-16 (Notepad's "Unicode") or holding NUL bytes is named as not UTF-8 (its
// lines were garbage cut at the first NUL); an unknown wnid names its line.
TEST_CASE("tiny-imagenet lists that are not UTF-8 text", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  testing::write_text(dir.path() / "val" / "val_annotations.txt",
                      "val_0.JPEG\tn01\t0\t0\t1\t1\nval_1.JPEG\tn09\t0\t0\t1\t1\n");
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    Catch::Contains(dir.str("val/val_annotations.txt") + ":2: image val_1.JPEG "
                                                                         "has class n09"));
  testing::write_text(dir.path() / "wnids.txt", std::string("\xFF\xFEn\0"
                                                            "0\0"
                                                            "1\0",
                                                            8));
  CHECK_THROWS_WITH(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}),
                    dir.str("wnids.txt") +
                        ":1: not UTF-8 text (a UTF-16 byte-order mark); save "
                        "it as UTF-8");
}

// What Tiny ImageNet's lists leave out is said: a train/ class wnids.txt does not list, a class
// with no validation image, val/images files the annotations do not list.
TEST_CASE("tiny-imagenet says what its lists leave out", "[sources][tiny]") {
  TempDir dir;
  testing::write_tiny_imagenet(dir.path());
  CHECK(load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""}).notes.empty());
  testing::write_jpg(dir.path() / "train" / "n09" / "images" / "n09_0.JPEG", 8, 8, 3,
                     testing::flat(1, 8, 8, 3));
  testing::write_jpg(dir.path() / "val" / "images" / "extra.JPEG", 8, 8, 3,
                     testing::flat(1, 8, 8, 3));
  std::string annotations;
  for (int i = 0; i < 4; ++i) {  // n03's validation images (val_4, val_5) left unlisted.
    annotations += fmt::format("val_{}.JPEG\tn0{}\t0\t0\t1\t1\n", i, i / 2 + 1);
  }
  testing::write_text(dir.path() / "val" / "val_annotations.txt", annotations);
  const Dataset data = load_dataset({"tiny-imagenet", dir.str(), 0, 0.1, 0.1, 0, ""});
  REQUIRE(data.notes.size() == 3);
  CHECK(data.notes[0] == "1 folders in " + dir.str("train") + " are classes " +
                             dir.str("wnids.txt") + " does not list, left out (first: n09)");
  CHECK(data.notes[1] ==
        "1 of the 3 classes have no validation image (first: n03): they are in "
        "no validation or test pair");
  CHECK(data.notes[2] == "3 images in " + dir.str("val/images") + " are not in " +
                             dir.str("val/val_annotations.txt") + ", left out");
}
