#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "avrec/error.h"
#include "avrec/features.h"
#include "avrec/parallel.h"
#include "avrec/text.h"

namespace avrec {

namespace {

double Quantile(std::vector<double> v, double q) {
  // Linear interpolation between order statistics (type 7).
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// Robust centre and scale of a column: the median, and the interquartile
// range / 1.349 (the standard deviation for normal data); when that is zero,
// 1.4826 x the median absolute deviation; then the standard deviation; zero
// when the column is constant.
void RobustScale(const std::vector<double>& v, double* centre, double* scale) {
  *centre = Quantile(v, 0.5);
  double iqr = Quantile(v, 0.75) - Quantile(v, 0.25);
  if (iqr > 0) {
    *scale = iqr / 1.349;
    return;
  }
  std::vector<double> dev(v.size());
  for (size_t i = 0; i < v.size(); ++i) dev[i] = std::fabs(v[i] - *centre);
  double mad = Quantile(dev, 0.5);
  if (mad > 0) {
    *scale = 1.4826 * mad;
    return;
  }
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  *scale = std::sqrt(ss / static_cast<double>(v.size()));
}

// ItemMatrix::tag_names and tags, rows in `order`.
void CollectTags(const ItemTable& items, const std::vector<size_t>& order, ItemMatrix* m) {
  const auto fold = [](std::string t) {
    for (char& c : t) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    return t;
  };
  std::set<std::string> names;
  for (const Item& item : items.items) {
    for (const std::string& t : item.tags) names.insert(fold(t));
  }
  if (names.empty()) return;
  m->tag_names.assign(names.begin(), names.end());
  m->tags.resize(order.size());
  for (size_t r = 0; r < order.size(); ++r) {
    std::vector<int>& ids = m->tags[r];
    for (const std::string& t : items.items[order[r]].tags) {
      const auto it = std::lower_bound(m->tag_names.begin(), m->tag_names.end(), fold(t));
      ids.push_back(static_cast<int>(it - m->tag_names.begin()));
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
}

}  // namespace

int ItemMatrix::Find(const std::string& id) const {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? static_cast<int>(it - ids.begin()) : -1;
}

namespace {

struct NumCol {
  int src;
  double centre, scale;
};
struct CatCol {
  int src;
  std::vector<std::string> values;  // sorted distinct values, one column each
};

// Where each modality's columns go: numeric columns, then categorical ones,
// then the text embedding; modalities in name order.
struct Layout {
  std::vector<std::vector<NumCol>> num;  // per modality block
  std::vector<std::vector<CatCol>> cat;
  bool has_text = false;
};

NumCol PlanNumeric(const ItemTable& items, int c, ItemMatrix* m) {
  std::vector<double> present;
  for (const Item& it : items.items) {
    if (!std::isnan(it.numeric[c])) present.push_back(it.numeric[c]);
  }
  NumCol col{c, 0, 0};
  if (!present.empty()) RobustScale(present, &col.centre, &col.scale);
  if (col.scale == 0) m->report.constant_columns.push_back(items.numeric_columns[c].name);
  m->column_names.push_back(items.numeric_columns[c].name);
  return col;
}

// One column per value that two or more items share: a value of one item
// alone cannot make two items alike (it only shrinks that item's other
// features), and an id-like column (a URL, an ISRC) would get a column per
// item.
CatCol PlanCategorical(const ItemTable& items, int c, ItemMatrix* m) {
  std::map<std::string, int64_t> count;
  for (const Item& it : items.items) {
    if (!it.categorical[c].empty()) ++count[it.categorical[c]];
  }
  CatCol col{c, {}};
  for (const auto& [v, n] : count) {
    if (n >= 2) col.values.push_back(v);
  }
  const int64_t single = static_cast<int64_t>(count.size() - col.values.size());
  const std::string& name = items.categorical_columns[c].name;
  if (single > 0) m->report.single_item_values.push_back({name, single, static_cast<int64_t>(count.size())});
  for (const auto& v : col.values) m->column_names.push_back(name + "=" + v);
  return col;
}

}  // namespace

void CheckModalityWeights(const ItemTable& items, const FeatureOptions& options) {
  // A weight for a modality the items lack is a misspelling or a column
  // gone: said, not ignored, as the weight would change nothing.
  std::set<std::string> modalities;
  for (const auto& c : items.numeric_columns) modalities.insert(c.modality);
  for (const auto& c : items.categorical_columns) modalities.insert(c.modality);
  for (const auto& [name, w] : options.modality_weights) {
    if (name == "text" || modalities.count(name) != 0) continue;
    std::vector<std::string> have(modalities.begin(), modalities.end());
    const std::string shown = EscapeForMessage(name, 40);
    have.push_back("text");  // the text model's, whatever the columns
    const std::string meant = NearestName(name, have);
    have.pop_back();
    Fail(ExitCode::kUsage, "--modality-weight ", shown, " (config features.modality_weights): ", items.path,
         " has no modality ", shown, meant.empty() ? "" : " (did you mean '" + meant + "'?)", " (",
         have.empty() ? std::string("it has no feature columns") : "it has " + JoinForMessage(have, have.size()),
         ", and 'text' from the text model; a feature column is named modality.name, e.g. audio.tempo)");
  }
}

namespace {

Layout PlanColumns(const ItemTable& items, const FeatureOptions& options, const RowMatrix* text, ItemMatrix* m) {
  std::map<std::string, std::vector<int>> numeric_by_mod, categorical_by_mod;
  for (size_t c = 0; c < items.numeric_columns.size(); ++c) {
    numeric_by_mod[items.numeric_columns[c].modality].push_back(static_cast<int>(c));
  }
  for (size_t c = 0; c < items.categorical_columns.size(); ++c) {
    categorical_by_mod[items.categorical_columns[c].modality].push_back(static_cast<int>(c));
  }
  std::set<std::string> modalities;
  for (const auto& [k, v] : numeric_by_mod) modalities.insert(k);
  for (const auto& [k, v] : categorical_by_mod) modalities.insert(k);
  Layout layout;
  layout.has_text = text != nullptr && text->rows() == static_cast<Eigen::Index>(items.items.size());
  if (layout.has_text) {
    if (modalities.count("text") != 0) {
      Fail(ExitCode::kDataErr, items.path,
           ": feature columns named text.* clash with the embedded text modality; rename them");
    }
    modalities.insert("text");
  }
  CheckModalityWeights(items, options);
  if (options.modality_weights.count("text") != 0 && !layout.has_text) {
    // A config that weights text, run with --text-model none.
    spdlog::warn("--modality-weight text: no text model embeds the items in this run, so the weight is unused");
  }
  int d = 0;
  for (const std::string& mod : modalities) {
    ModalityBlock block{mod, d, d, 1.0};
    if (auto w = options.modality_weights.find(mod); w != options.modality_weights.end()) block.weight = w->second;
    std::vector<NumCol> nums;
    for (int c : numeric_by_mod[mod]) nums.push_back(PlanNumeric(items, c, m));
    d += static_cast<int>(nums.size());
    std::vector<CatCol> cats;
    for (int c : categorical_by_mod[mod]) {
      cats.push_back(PlanCategorical(items, c, m));
      d += static_cast<int>(cats.back().values.size());
    }
    if (mod == "text" && layout.has_text) {
      for (Eigen::Index k = 0; k < text->cols(); ++k) m->column_names.push_back("text[" + std::to_string(k) + "]");
      d += static_cast<int>(text->cols());
    }
    block.end = d;
    layout.num.push_back(std::move(nums));
    layout.cat.push_back(std::move(cats));
    m->modalities.push_back(block);
  }
  return layout;
}

// Row r of the matrix from item `it` (text row `text_row` of the
// embeddings): standardised, one-hot, embedded; each block L2-normalised and
// weighted.
void FillRow(const Item& it, Eigen::Index r, const Layout& layout, const FeatureOptions& options, const RowMatrix* text,
             Eigen::Index text_row, ItemMatrix* m) {
  for (size_t b = 0; b < m->modalities.size(); ++b) {
    const ModalityBlock& block = m->modalities[b];
    int col = block.begin;
    for (const NumCol& nc : layout.num[b]) {
      double v = it.numeric[nc.src];
      if (std::isnan(v)) {
        ++m->report.imputed;
        v = 0;  // the median, after centring
      } else if (nc.scale > 0) {
        v = std::clamp((v - nc.centre) / nc.scale, -options.clip, options.clip);
      } else {
        v = 0;
      }
      m->vectors(r, col++) = static_cast<float>(v);
    }
    for (const CatCol& cc : layout.cat[b]) {
      const std::string& value = it.categorical[cc.src];
      auto pos = std::lower_bound(cc.values.begin(), cc.values.end(), value);
      if (!value.empty() && pos != cc.values.end() && *pos == value) {
        m->vectors(r, col + static_cast<int>(pos - cc.values.begin())) = 1.0f;
      }
      col += static_cast<int>(cc.values.size());
    }
    if (block.name == "text" && layout.has_text) {
      m->vectors.row(r).segment(col, text->cols()) = text->row(text_row);
      if (text->row(text_row).squaredNorm() > 0) ++m->report.text_items;
    }
    auto seg = m->vectors.row(r).segment(block.begin, block.end - block.begin);
    const double norm = seg.cast<double>().norm();
    // In double: 1 / norm of subnormal floats is beyond a float's range.
    if (norm > 0) seg = (seg.cast<double>() * (block.weight / norm)).cast<float>();
  }
  if (m->vectors.row(r).squaredNorm() == 0) m->report.zero_items.push_back(it.item_id);
}

// Item vectors are dense: a catalogue times its columns of floats. Past a
// third of the memory avrec may take (ranking needs more beside them) the run
// stops with the size and the widest categorical column, instead of being
// killed by the kernel when the memory runs out.
void CheckMatrixFits(const ItemTable& items, size_t n, const ItemMatrix& m, const Layout& layout) {
  const double bytes = static_cast<double>(n) * static_cast<double>(m.column_names.size()) * sizeof(float);
  const double memory = MemoryBytes();
  if (memory <= 0 || bytes <= memory / 3) return;
  const CatCol* widest = nullptr;
  for (const auto& block : layout.cat) {
    for (const CatCol& cc : block) {
      if (widest == nullptr || cc.values.size() > widest->values.size()) widest = &cc;
    }
  }
  Fail(ExitCode::kUsage, items.path, ": item vectors of ", n, " items x ", m.column_names.size(), " dimensions take ",
       MemoryText(bytes), ", more than a third of the ", MemoryText(memory),
       " avrec may take (the machine's memory, its container's limit, or $AVREC_MEMORY_MB)",
       widest == nullptr ? std::string()
                         : "; the categorical column '" + items.categorical_columns[widest->src].name + "' alone has " +
                               std::to_string(widest->values.size()) +
                               " values shared by two or more items, a column each: leave it out (--items-map " +
                               ShellWord("unused=" + items.categorical_columns[widest->src].name) +
                               " reads it under a name avrec does not use), or give its values as tags");
}

}  // namespace

ItemMatrix BuildItemMatrix(const ItemTable& items, const FeatureOptions& options, const RowMatrix* text_embeddings) {
  ItemMatrix m;
  const size_t n = items.items.size();
  // Rows sorted by item id: ties in ranking are then broken by row order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return items.items[a].item_id < items.items[b].item_id; });
  for (size_t r = 0; r < n; ++r) m.ids.push_back(items.items[order[r]].item_id);
  const Layout layout = PlanColumns(items, options, text_embeddings, &m);
  CheckMatrixFits(items, n, m, layout);
  m.vectors = RowMatrix::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(m.column_names.size()));
  for (size_t r = 0; r < n; ++r) {
    FillRow(items.items[order[r]], static_cast<Eigen::Index>(r), layout, options, text_embeddings,
            static_cast<Eigen::Index>(order[r]), &m);
  }
  CollectTags(items, order, &m);
  return m;
}

}  // namespace avrec
