#include "hpt/trainer/saved_model.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "hpt/io/atomic_file.hpp"
#include "hpt/io/regular_file.hpp"
#include "hpt/trainer/image_io.hpp"
#include "hpt/trainer/torch_error.hpp"

namespace hpt::trainer {

void save_model(const std::string& dir, EmbeddingHead& head, FeatureExtractor& extractor,
                const ExperimentConfig& config, double threshold) {
  torch::save(head, dir + "/head.pt");
  const auto& o = head->options();
  nlohmann::json meta = {{"format", "hpt-embedding-model-v1"},
                         {"config", to_json(config)},
                         {"head",
                          {{"in_features", o.in_features()},
                           {"embedding_dim", o.embedding_dim()},
                           {"units", o.units()},
                           {"dropout", o.dropout()}}},
                         {"extractor", extractor.save(dir)},
                         {"threshold", threshold}};
  hpt::write_file_atomically(dir + "/model.json", meta.dump(2) + "\n");
}

SavedModel load_model(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/model.json")) {
    throw std::runtime_error(fmt::format("{}: not a model folder (no model.json)", dir));
  }
  // A regular file only (a FIFO planted as model.json would block), of a sane size.
  const std::string text = hpt::read_regular_file(dir + "/model.json", size_t{16} << 20);
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(text);
    const auto& h = meta.at("head");
    EmbeddingHead head(EmbeddingHeadOptions(h.at("in_features").get<int64_t>(),
                                            h.at("embedding_dim").get<int64_t>())
                           .units(h.at("units").get<std::vector<int64_t>>())
                           .dropout(h.at("dropout").get<double>()));
    hpt::require_regular_file(dir + "/head.pt");
    torch::load(head, dir + "/head.pt");
    head->eval();
    FeatureExtractor extractor = FeatureExtractor::load(meta.at("extractor"), dir);
    if (extractor.feature_dim() != head->options().in_features()) {
      throw std::runtime_error(
          fmt::format("{}/model.json: the head takes {} features but the extractor gives {}", dir,
                      head->options().in_features(), extractor.feature_dim()));
    }
    return SavedModel{head, std::move(extractor),
                      experiment_from_json(meta.at("config"), dir + "/model.json"),
                      meta.at("threshold").get<double>()};
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}/model.json: {}", dir, e.what()));
  } catch (const std::invalid_argument& e) {  // A value no hpt wrote (FeatureExtractor::load).
    throw std::runtime_error(fmt::format("{}/model.json: {}", dir, e.what()));
  } catch (const c10::Error& e) {  // LibTorch's message names the file.
    throw std::runtime_error(
        fmt::format("{}: cannot load the model: {}", dir, torch_error_line(e)));
  }
}

torch::Tensor embed_files(SavedModel& model, const std::vector<std::string>& paths) {
  torch::NoGradGuard no_grad;
  model.head->eval();
  model.extractor.train(false);
  const InputSpec& spec = model.extractor.input_spec();
  const int size = static_cast<int>(spec.size);
  std::vector<torch::Tensor> rows;
  for (const auto& path : paths) {
    DecodedImage img = convert_channels(decode_image(path), static_cast<int>(spec.channels));
    if (size > 0) {
      img = resize_image(img, size);
    }
    auto t =
        torch::from_blob(img.pixels.data(), {1, img.height, img.width, img.channels}, torch::kUInt8)
            .clone();
    rows.push_back(model.head->forward(model.extractor.forward(to_input(t, spec))));
  }
  return torch::cat(rows);
}

}  // namespace hpt::trainer
