#include <map>
#include <set>

#include "../trainer_data/catch_torch.hpp"  // LibTorch first, then Catch2 (glog CHECK).
#include "hpt/trainer/batch_sampler.hpp"

using hpt::trainer::PkSampler;

// Every batch holds P distinct classes with K images each, all with matching labels.
TEST_CASE("P x K batches are class-balanced", "[sampler]") {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 100; ++i) {
    labels.push_back(i % 5);
  }
  PkSampler sampler(labels, 3, 4, 7);
  CHECK(sampler.batch_size() == 12);
  std::map<int64_t, int> seen;
  for (int b = 0; b < 20; ++b) {
    auto batch = sampler.next();
    REQUIRE(batch.size() == 12);
    std::set<int64_t> classes;
    for (size_t c = 0; c < 3; ++c) {
      const int64_t label = labels[batch[c * 4]];
      classes.insert(label);
      std::set<int64_t> distinct;
      for (size_t k = 0; k < 4; ++k) {
        CHECK(labels[batch[c * 4 + k]] == label);
        distinct.insert(batch[c * 4 + k]);
        ++seen[batch[c * 4 + k]];
      }
      CHECK(distinct.size() == 4);  // Enough images: no repeats within a class.
    }
    CHECK(classes.size() == 3);
  }
  CHECK(seen.size() > 90);  // Queues cycle through (almost) every image.
}

// Classes with fewer than K images are drawn with replacement; P is clamped.
TEST_CASE("small classes and clamped P", "[sampler]") {
  std::vector<int64_t> labels = {0, 0, 1, 1, 1, 1, 1, 1};
  PkSampler sampler(labels, 5, 4, 1);
  CHECK(sampler.batch_size() == 8);
  for (int b = 0; b < 5; ++b) {
    auto batch = sampler.next();
    std::map<int64_t, int> per_class;
    for (auto i : batch) {
      ++per_class[labels[i]];
    }
    CHECK(per_class[0] == 4);
    CHECK(per_class[1] == 4);
  }
  CHECK_THROWS_AS(PkSampler({0, 1}, 0, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(PkSampler({}, 2, 2, 1), std::invalid_argument);
}

// Same seed -> same batches; another seed -> different batches.
TEST_CASE("sampler is seeded", "[sampler]") {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 60; ++i) {
    labels.push_back(i % 6);
  }
  PkSampler a(labels, 2, 3, 42), b(labels, 2, 3, 42), c(labels, 2, 3, 43);
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    auto x = a.next();
    CHECK(x == b.next());
    differs = differs || x != c.next();
  }
  CHECK(differs);
}

// The batch and epoch sizes training counts with (and the warm-up note repeats).
TEST_CASE("pk_batch_size and epoch_steps", "[batch_sampler]") {
  CHECK(hpt::trainer::pk_batch_size(8, 4, 3) == 12);  // P clamped to the classes there are.
  CHECK(hpt::trainer::pk_batch_size(2, 4, 10) == 8);
  const hpt::trainer::PkSampler sampler({0, 0, 1, 1, 2, 2}, 8, 4, 1);
  CHECK(sampler.batch_size() == hpt::trainer::pk_batch_size(8, 4, 3));
  CHECK(hpt::trainer::epoch_steps(7, 1000, 16) == 7);
  CHECK(hpt::trainer::epoch_steps(0, 1000, 16) == 63);  // One pass, the last batch partial.
  CHECK(hpt::trainer::epoch_steps(0, 0, 16) == 1);
}
