// "What the model learned": reading and rendering the trainer's model_view.json.

#include "hpt/reports/model_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>

#include "hpt/io/regular_file.hpp"
#include "hpt/reports/html_page.hpp"
#include "hpt/reports/svg.hpp"

namespace hpt::reports {
namespace {

using Out = std::back_insert_iterator<std::string>;

constexpr size_t k_max_file_bytes = size_t{32} << 20;
constexpr size_t k_max_points = 2000;
constexpr size_t k_max_thumbnail_bytes = size_t{8} << 20;
constexpr size_t k_max_pairs = 20;
constexpr size_t k_max_legend = 40;

// A finite number at j, or std::nullopt.
std::optional<double> number_at(const Json& j) {
  if (!j.is_number()) {
    return std::nullopt;
  }
  const double v = j.get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::optional<double> number_field(const Json& view, const char* key) {
  auto it = view.find(key);
  return it == view.end() ? std::nullopt : number_at(*it);
}

// A base64 PNG usable in a data: URL (only base64 characters, so it cannot break out of the
// attribute), or an empty string.
std::string thumbnail(const Json& j) {
  if (!j.is_string()) {
    return {};
  }
  const std::string& s = j.get_ref<const std::string&>();
  const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
  });
  return ok ? s : std::string();
}

// The colour of class label (ten distinct colours, then hues spread by the golden angle).
std::string class_color(int64_t label) {
  static const char* const k_palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  if (label >= 0 && label < 10) {
    return k_palette[label];
  }
  const double hue = std::fmod(static_cast<double>(label < 0 ? 0 : label) * 137.508, 360.0);
  return fmt::format("hsl({:.0f},65%,45%)", hue);
}

class ViewReader {
 public:
  explicit ViewReader(const Json& view) : m_view(view) {
    if (auto it = view.find("class_names"); it != view.end() && it->is_array()) {
      for (const Json& n : *it) {
        m_names.push_back(n.is_string() ? n.get<std::string>() : n.dump());
      }
    }
  }
  // The class name of label (its number when unnamed).
  std::string class_name(const Json& label) const {
    if (label.is_number_integer()) {
      const int64_t l = label.get<int64_t>();
      if (l >= 0 && l < static_cast<int64_t>(m_names.size())) {
        return m_names[static_cast<size_t>(l)];
      }
      return std::to_string(l);
    }
    return "?";
  }
  const std::vector<std::string>& names() const { return m_names; }

 private:
  const Json& m_view;
  std::vector<std::string> m_names;
};

void render_recall(std::string& out, const Json& view) {
  auto it = view.find("recall_at_k");
  if (it == view.end() || !it->is_array() || it->empty()) {
    return;
  }
  out += "<table class=\"kv\"><tr><th>k</th><th>recall@k</th></tr>";
  for (const Json& row : *it) {
    if (!row.is_array() || row.size() != 2 || !row[0].is_number_integer() || !number_at(row[1])) {
      continue;
    }
    fmt::format_to(Out(out), "<tr><td class=\"n\">{}</td><td class=\"n\">{:.1f}%</td></tr>",
                   row[0].get<int64_t>(), 100 * *number_at(row[1]));
  }
  out +=
      "</table><p class=\"hint\">recall@k: the share of test images with an image of the same "
      "class among their k nearest other test images.</p>";
}

// One embedding point: PCA coordinates, class label, index of its thumbnail (-1 for none).
struct MapPoint {
  double x, y;
  int64_t label;
  int64_t thumb;
};

// The view's thumbnails (base64 PNGs), "" for a malformed one or past k_max_thumbnail_bytes.
std::vector<std::string> read_thumbnails(const Json& view) {
  std::vector<std::string> thumbs;
  size_t bytes = 0;
  if (auto t = view.find("thumbnails"); t != view.end() && t->is_array()) {
    for (const Json& j : *t) {
      std::string s = thumbnail(j);
      bytes += s.size();
      thumbs.push_back(bytes <= k_max_thumbnail_bytes ? std::move(s) : std::string());
    }
  }
  return thumbs;
}

// The well-formed [x, y, label(, thumbnail)] entries of points, at most k_max_points.
std::vector<MapPoint> read_points(const Json& points, const std::vector<std::string>& thumbs) {
  std::vector<MapPoint> out;
  for (const Json& p : points) {
    if (out.size() == k_max_points) {
      break;
    }
    if (!p.is_array() || p.size() < 3 || !number_at(p[0]) || !number_at(p[1]) ||
        !p[2].is_number_integer()) {
      continue;
    }
    int64_t thumb = p.size() > 3 && p[3].is_number_integer() ? p[3].get<int64_t>() : -1;
    if (thumb < 0 || thumb >= static_cast<int64_t>(thumbs.size()) ||
        thumbs[static_cast<size_t>(thumb)].empty()) {
      thumb = -1;
    }
    out.push_back({*number_at(p[0]), *number_at(p[1]), p[2].get<int64_t>(), thumb});
  }
  return out;
}

// The x (or y) axis over points, padded by 4 %, labelled with the component's share of the
// variance when the view has pca_explained.
Axis map_axis(const std::vector<MapPoint>& points, bool x, const Json& view) {
  std::string label = x ? "principal component 1" : "principal component 2";
  if (auto e = view.find("pca_explained"); e != view.end() && e->is_array() && e->size() == 2) {
    if (auto share = number_at((*e)[x ? 0 : 1])) {
      label += fmt::format(x ? " ({:.0f}% of the variance)" : " ({:.0f}%)", 100 * *share);
    }
  }
  auto [lo, hi] =
      std::minmax_element(points.begin(), points.end(),
                          [x](const auto& p, const auto& q) { return x ? p.x < q.x : p.y < q.y; });
  return padded_axis(x ? lo->x : lo->y, x ? hi->x : hi->y, label);
}

// The legend: a colour and name for each of labels (sorted, distinct), at most k_max_legend.
void render_legend(std::string& out, const std::vector<int64_t>& labels, const ViewReader& reader) {
  out += "<div class=\"legend\">";
  for (size_t i = 0; i < labels.size() && i < k_max_legend; ++i) {
    fmt::format_to(Out(out), "<span><i style=\"background:{}\"></i>{}</span>",
                   class_color(labels[i]), html_escape(shorten(reader.class_name(labels[i]), 30)));
  }
  if (labels.size() > k_max_legend) {
    fmt::format_to(Out(out), "<span>\u2026 and {} more classes</span>",
                   labels.size() - k_max_legend);
  }
  out += "</div>";
}

void render_map(std::string& out, const Json& view, const ViewReader& reader) {
  auto it = view.find("points");
  if (it == view.end() || !it->is_array() || it->empty()) {
    append_note(out, "The model view has no embedding points.");
    return;
  }
  const std::vector<std::string> thumbs = read_thumbnails(view);
  const std::vector<MapPoint> points = read_points(*it, thumbs);
  if (points.empty()) {
    append_note(out, "The model view's points are malformed.");
    return;
  }
  Frame f(map_axis(points, true, view), map_axis(points, false, view), 640, 480);
  out += "<div class=\"grid\">";
  f.open(out, fmt::format("Test embeddings by class ({} images)", points.size()));
  out += "<g class=\"emb\">";
  std::vector<int64_t> labels;
  for (const MapPoint& p : points) {
    fmt::format_to(Out(out),
                   "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" data-c=\"{}\" "
                   "data-k=\"{}\"/>",
                   f.px(p.x), f.py(p.y), class_color(p.label), p.label, p.thumb);
    labels.push_back(p.label);
  }
  out += "</g>";
  Frame::close(out);
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  render_legend(out, labels, reader);
  out += "</div>";
  // Thumbnails and class names for the hover tooltip (reports/web/report.js).
  Json names = Json::object();
  for (int64_t l : labels) {
    names[std::to_string(l)] = reader.class_name(Json(l));
  }
  out += "<script type=\"application/json\" class=\"hpt-emb\">" +
         script_json(Json{{"names", names}, {"thumbs", thumbs}}) + "</script>";
}

void render_pairs(std::string& out, const Json& view, const ViewReader& reader, const char* key,
                  const std::string& title, const std::string& empty) {
  fmt::format_to(Out(out), "<h3>{}</h3>", html_escape(title));
  auto it = view.find(key);
  if (it == view.end() || !it->is_array() || it->empty()) {
    fmt::format_to(Out(out), "<p class=\"hint\">{}</p>", html_escape(empty));
    return;
  }
  out += "<table class=\"pairs\"><tr><th>images</th><th>classes</th><th>distance</th></tr>";
  size_t shown = 0;
  for (const Json& pair : *it) {
    if (shown == k_max_pairs) {
      break;
    }
    if (!pair.is_object() || !number_field(pair, "distance") || !pair.contains("a") ||
        !pair.contains("b") || !pair["a"].is_object() || !pair["b"].is_object()) {
      continue;
    }
    auto image = [](const Json& side) {
      const std::string t = side.contains("thumb") ? thumbnail(side["thumb"]) : std::string();
      return t.empty() ? std::string("<span class=\"hint\">(no image)</span>")
                       : "<img class=\"thumb\" alt=\"\" src=\"data:image/png;base64," + t + "\">";
    };
    auto label = [&](const Json& side) {
      return html_escape(shorten(reader.class_name(side.value("label", Json())), 40));
    };
    fmt::format_to(Out(out), "<tr><td>{}{}</td><td>{} / {}</td><td class=\"n\">{}</td></tr>",
                   image(pair["a"]), image(pair["b"]), label(pair["a"]), label(pair["b"]),
                   format_number(*number_field(pair, "distance")));
    ++shown;
  }
  out += "</table>";
}

}  // namespace

std::optional<Json> read_model_view(const std::string& path,
                                    const std::vector<std::string>& within) {
  std::error_code ec;
  if (std::filesystem::is_symlink(path, ec)) {
    return std::nullopt;
  }
  try {
    Json j = Json::parse(read_regular_file(path, k_max_file_bytes, within));
    if (j.is_object() && j.value("format", Json()) == k_model_view_format) {
      return j;
    }
  } catch (const std::exception&) {
    // Absent, unreadable, too large or not JSON: no view.
  }
  return std::nullopt;
}

std::string render_model_view(const Json& view, const std::string& heading) {
  std::string out;
  fmt::format_to(Out(out), "<section id=\"model\"><h2>{}</h2>", html_escape(heading));
  if (!view.is_object()) {
    append_note(out, "The model view is not a JSON object.");
    out += "</section>";
    return out;
  }
  const ViewReader reader(view);
  const auto threshold = number_field(view, "threshold");
  const auto n_images = number_field(view, "n_images");
  const auto dim = number_field(view, "embedding_dim");
  fmt::format_to(Out(out),
                 "<p class=\"hint\">The trained model on the {} split ({} images, {} classes): "
                 "each image's embedding{} projected on its two principal components (hover a "
                 "point to see the image), recall@k, and the test pairs it gets most wrong at "
                 "the distance threshold{} chosen on the validation pairs.</p>",
                 html_escape(view.value("split", Json("test")).is_string()
                                 ? view.value("split", Json("test")).get<std::string>()
                                 : "test"),
                 n_images ? format_number(*n_images) : "?", reader.names().size(),
                 dim ? " (" + format_number(*dim) + " dimensions)" : "",
                 threshold ? " " + format_number(*threshold) : "");
  render_recall(out, view);
  render_map(out, view, reader);
  const auto pairs = number_field(view, "pairs");
  const auto fm = number_field(view, "false_matches");
  const auto fnm = number_field(view, "false_non_matches");
  if (pairs && fm && fnm) {
    fmt::format_to(Out(out),
                   "<p>Of {} test pairs, {} are false matches (different classes, distance "
                   "&le; {}) and {} false non-matches (same class, distance &gt; {}).</p>",
                   format_number(*pairs), format_number(*fm),
                   threshold ? format_number(*threshold) : "?", format_number(*fnm),
                   threshold ? format_number(*threshold) : "?");
  }
  const std::string t = threshold ? format_number(*threshold) : "?";
  render_pairs(out, view, reader, "hardest_false_matches",
               "Hardest false matches: different classes, smallest distances (\u2264 " + t + ")",
               "No false match among the test pairs.");
  render_pairs(out, view, reader, "hardest_false_non_matches",
               "Hardest false non-matches: same class, largest distances (> " + t + ")",
               "No false non-match among the test pairs.");
  out += "</section>";
  return out;
}

std::string render_model_report(const Json& view, const std::string& title) {
  return render_page(title, "<h1>" + html_escape(title) + "</h1>" +
                                render_model_view(view, "What the model learned"));
}

}  // namespace hpt::reports
