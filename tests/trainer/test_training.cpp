#include <catch2/catch.hpp>

#include "hpt/trainer/training.hpp"

using namespace hpt::trainer;

namespace {

// Two well-separated Gaussian blobs per class in 6-D "feature" space.
TrainData blobs(int64_t per_class, uint64_t seed) {
  torch::manual_seed(seed);
  auto centers = torch::eye(6).slice(0, 0, 3) * 3;
  auto labels = torch::arange(3, torch::kInt64).repeat({per_class});
  auto x = centers.index_select(0, labels) + torch::randn({3 * per_class, 6});
  return {x, labels};
}

}  // namespace

// Early stopping: patience counts epochs without a new best; patience 0 never stops.
TEST_CASE("early stopping rule", "[training]") {
  EarlyStopping s(2);
  CHECK(s.update(0.5));
  CHECK(s.update(0.7));
  CHECK_FALSE(s.update(0.6));
  CHECK_FALSE(s.should_stop());
  CHECK_FALSE(s.update(0.7));  // Equal is not better.
  CHECK(s.should_stop());
  CHECK(s.best() == 0.7);
  CHECK(s.best_epoch() == 2);
  EarlyStopping never(0);
  for (int i = 0; i < 10; ++i) {
    never.update(0.1);
  }
  CHECK_FALSE(never.should_stop());
}

// The loop stops after `patience` epochs without improvement and restores the weights of
// the best epoch (captured here from the per-epoch callback).
TEST_CASE("training stops early and restores the best weights", "[training]") {
  auto train = blobs(20, 1);
  auto val = blobs(10, 2);
  torch::manual_seed(3);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4));
  LoopOptions o;
  o.epochs = 10;
  o.patience = 2;
  o.classes_per_batch = 3;
  o.images_per_class = 4;
  o.learning_rate = 0.05;
  const std::vector<double> scripted = {0.5, 0.8, 0.6, 0.7, 0.9, 0.95};
  size_t call = 0;
  std::vector<torch::Tensor> at_best;
  std::vector<int64_t> epochs_seen;
  auto result = train_embedding(
      head, nullptr, train, val, o,
      [&](const EpochReport& r) {
        epochs_seen.push_back(r.epoch);
        if (r.epoch == 2) {
          at_best = snapshot_state(*head);
        }
      },
      [&] { return scripted.at(call++); });
  CHECK(result.epochs_run == 4);
  CHECK((epochs_seen == std::vector<int64_t>{1, 2, 3, 4}));
  CHECK(result.best_epoch == 2);
  CHECK(result.best_val_auc == 0.8);
  auto now = snapshot_state(*head);
  REQUIRE(now.size() == at_best.size());
  for (size_t i = 0; i < now.size(); ++i) {
    CHECK(torch::equal(now[i], at_best[i]));
  }
}

// Head training on separable features reaches a high validation pair AUC.
TEST_CASE("head training learns separable features", "[training]") {
  auto train = blobs(30, 4);
  auto val = blobs(15, 5);
  torch::manual_seed(6);
  EmbeddingHead head(EmbeddingHeadOptions(6, 4).units({16}));
  LoopOptions o;
  o.epochs = 5;
  o.classes_per_batch = 3;
  o.images_per_class = 6;
  o.learning_rate = 0.01;
  o.eval_pairs = 400;
  for (const char* loss : {"semi-hard", "batch-hard"}) {
    o.loss = loss;
    auto r = train_embedding(head, nullptr, train, val, o, {});
    CHECK(r.best_val_auc > 0.95);
    CHECK(r.history.size() == 5);
  }
}
