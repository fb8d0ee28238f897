#include "hpt/schema/yaml_document.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <optional>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "hpt/io/regular_file.hpp"
#include "hpt/schema/config_error.hpp"
#include "hpt/schema/number_text.hpp"

namespace hpt {

namespace {

// Why node's tag cannot be taken ("" when it can): hpt reads the core schema's !!str, !!int,
// !!float, !!bool and !!null (on a value of that kind) and !!map, !!seq; any other tag
// (!!binary, !!set, !custom) was dropped without a word, its text read as a plain string.
std::string tag_problem(const YAML::Node& node) {
  static const std::string k_core = "tag:yaml.org,2002:";
  const std::string& tag = node.Tag();
  if (tag.empty() || tag == "?" || tag == "!") {
    return "";
  }
  const bool core = tag.rfind(k_core, 0) == 0;
  const std::string kind = core ? tag.substr(k_core.size()) : "";
  const std::string shown = core ? "!!" + kind : tag;
  if ((kind == "map" && node.IsMap()) || (kind == "seq" && node.IsSequence()) ||
      (kind == "str" && node.IsScalar())) {
    return "";
  }
  if (node.IsScalar() && (kind == "int" || kind == "float" || kind == "bool" || kind == "null")) {
    const std::string& s = node.Scalar();
    int64_t i = 0;
    const bool fits = kind == "int"     ? parse_decimal_int(s, i) == IntText::ok
                      : kind == "float" ? parse_decimal_double(s).has_value()
                      : kind == "bool"
                          ? s == "true" || s == "True" || s == "TRUE" || s == "false" ||
                                s == "False" || s == "FALSE"
                          : s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
    return fits ? "" : fmt::format("the tag {} on '{}', which is no {}", shown, s, kind);
  }
  return fmt::format(
      "the YAML tag {} is not read by hpt (it reads !!str, !!int, !!float, !!bool "
      "and !!null on values of their kind); remove it",
      shown);
}

// One walk over the document that enforces the limits before anything else reads it. The
// key path is kept as cheap segments and spelled out only for an error.
class DocumentCheck {
 public:
  explicit DocumentCheck(std::string file) : m_file(std::move(file)) {}

  void visit(const YAML::Node& node, int depth) {
    if (++m_values > k_max_config_values) {
      fail(node, fmt::format("the document expands to more than {} values (through aliases?)",
                             k_max_config_values));
    }
    if (depth > k_max_config_depth) {
      fail(node, fmt::format("nested deeper than {} levels", k_max_config_depth));
    }
    if (node.IsScalar() && node.Scalar().find('\0') != std::string::npos) {
      fail(node, "contains a NUL character");  // "\0" in quotes: C APIs would cut it short.
    }
    if (const std::string problem = tag_problem(node); !problem.empty()) {
      fail(node, problem);
    }
    if (!node.IsMap() && !node.IsSequence()) {
      return;
    }
    for (const auto& outer : m_open) {
      if (node.is(outer)) {
        fail(node, "an alias refers to a node that contains it (a cycle)");
      }
    }
    m_open.push_back(node);
    if (node.IsSequence()) {
      size_t i = 0;
      for (const auto& item : node) {
        m_path.push_back({nullptr, i++});
        visit(item, depth + 1);
        m_path.pop_back();
      }
    } else {
      std::unordered_map<std::string, int> first_line;
      static const std::string k_complex_key = "?";
      for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Tag() == "?" && kv.first.Scalar() == "<<") {
          // yaml-cpp reads a merge key as a key named "<<" (a quoted "<<" is one on purpose).
          fail(kv.first, "YAML merge keys (<<) are not supported; write the keys out");
        }
        const std::string& name = kv.first.IsScalar() ? kv.first.Scalar() : k_complex_key;
        m_path.push_back({&name, 0});
        visit(kv.first, depth + 1);
        if (kv.first.IsScalar()) {
          const auto [it, inserted] = first_line.emplace(name, kv.first.Mark().line + 1);
          if (!inserted) {
            fail(kv.first, fmt::format("duplicate key '{}' (first at line {})", name, it->second));
          }
        }
        visit(kv.second, depth + 1);
        m_path.pop_back();
      }
    }
    m_open.pop_back();
  }

 private:
  struct Segment {
    const std::string* key;  // A mapping key, or nullptr for a sequence index.
    size_t index;
  };

  // A key as a message shows it: a NUL byte as "\0".
  static std::string printable_key(const std::string& key) {
    std::string out;
    for (char c : key) {
      out += c == '\0' ? std::string("\\0") : std::string(1, c);
    }
    return out;
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    ConfigPath at{m_file, ""};
    for (const auto& segment : m_path) {
      at = segment.key ? at.child(printable_key(*segment.key)) : at.index(segment.index);
    }
    config_fail(at, node, message);
  }

  std::string m_file;
  size_t m_values = 0;
  std::vector<YAML::Node> m_open;  // The mappings and sequences enclosing the current node.
  std::vector<Segment> m_path;
};

// Records where the document it is given starts; ignores the rest of its events.
class DocumentStart : public YAML::EventHandler {
 public:
  int line = -1;  // 0-based.
  void OnDocumentStart(const YAML::Mark& mark) override { line = mark.line; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The 0-based line where a second document of text starts (its "---"), if it has one.
// YAML::Load reads the first document only and would drop the rest without a word.
std::optional<int> second_document_line(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStart first;
  DocumentStart second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) {
    return std::nullopt;
  }
  return second.line;
}

}  // namespace

std::string read_config_file(const std::string& path) {
  try {
    return read_regular_file(path, k_max_config_bytes);
  } catch (const FileError& e) {
    throw ConfigError(e.what());
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  YAML::Node root;
  try {
    if (const auto line = second_document_line(text)) {
      throw ConfigError(
          fmt::format("{}:{}: a second YAML document starts here (after '---' or "
                      "'...'); a config is one document",
                      file, *line + 1));
    }
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own limit said "bad file".
    const std::string where = e.mark.line >= 0 ? fmt::format("{}:{}", file, e.mark.line + 1) : file;
    throw ConfigError(fmt::format("{}: nested deeper than {} levels", where, k_max_config_depth));
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.line >= 0 ? fmt::format("{}:{}", file, e.mark.line + 1) : file;
    throw ConfigError(fmt::format("{}: YAML syntax error: {}", where, e.msg));
  }
  DocumentCheck(file).visit(root, 0);
  return root;
}

YAML::Node load_yaml_file(const std::string& path) {
  return parse_yaml(read_config_file(path), path);
}

}  // namespace hpt
