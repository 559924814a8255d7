#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "avrec/error.h"
#include "avrec/features.h"

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

}  // namespace

int ItemMatrix::Find(const std::string& id) const {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? static_cast<int>(it - ids.begin()) : -1;
}

std::string ItemText(const Item& item) {
  std::string text = item.title;
  if (!item.tags.empty()) {
    if (!text.empty()) text += ". ";
    for (size_t i = 0; i < item.tags.size(); ++i) text += (i > 0 ? ", " : "") + item.tags[i];
  }
  if (!item.description.empty()) {
    if (!text.empty()) text += ". ";
    text += item.description;
  }
  return text;
}

ItemMatrix BuildItemMatrix(const ItemTable& items, const FeatureOptions& options, const RowMatrix* text_embeddings) {
  ItemMatrix m;
  const size_t n = items.items.size();
  // Rows sorted by item id: ties in ranking are then broken by row order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items.items[a].item_id < items.items[b].item_id; });
  for (size_t r = 0; r < n; ++r) m.ids.push_back(items.items[order[r]].item_id);

  // Modalities in name order; within one, numeric columns then categorical ones.
  std::map<std::string, std::vector<int>> numeric_by_mod, categorical_by_mod;
  for (size_t c = 0; c < items.numeric_columns.size(); ++c) numeric_by_mod[items.numeric_columns[c].modality].push_back(static_cast<int>(c));
  for (size_t c = 0; c < items.categorical_columns.size(); ++c) categorical_by_mod[items.categorical_columns[c].modality].push_back(static_cast<int>(c));
  std::set<std::string> modalities;
  for (const auto& [k, v] : numeric_by_mod) modalities.insert(k);
  for (const auto& [k, v] : categorical_by_mod) modalities.insert(k);
  const bool has_text = text_embeddings != nullptr && text_embeddings->rows() == static_cast<Eigen::Index>(n);
  if (has_text) {
    if (modalities.count("text") != 0) {
      Fail(ExitCode::kDataErr, items.path, ": feature columns named text.* clash with the embedded text modality; rename them");
    }
    modalities.insert("text");
  }

  // Column layout.
  struct NumCol {
    int src;
    double centre, scale;
  };
  struct CatCol {
    int src;
    std::vector<std::string> values;  // sorted distinct values, one column each
  };
  std::vector<std::vector<NumCol>> num_cols;
  std::vector<std::vector<CatCol>> cat_cols;
  int d = 0;
  for (const std::string& mod : modalities) {
    ModalityBlock block{mod, d, d, 1.0};
    auto w = options.modality_weights.find(mod);
    if (w != options.modality_weights.end()) block.weight = w->second;
    std::vector<NumCol> nums;
    for (int c : numeric_by_mod[mod]) {
      std::vector<double> present;
      for (const Item& it : items.items) {
        if (!std::isnan(it.numeric[c])) present.push_back(it.numeric[c]);
      }
      NumCol col{c, 0, 0};
      if (!present.empty()) RobustScale(present, &col.centre, &col.scale);
      if (col.scale == 0) m.report.constant_columns.push_back(items.numeric_columns[c].name);
      nums.push_back(col);
      m.column_names.push_back(items.numeric_columns[c].name);
      ++d;
    }
    std::vector<CatCol> cats;
    for (int c : categorical_by_mod[mod]) {
      std::set<std::string> values;
      for (const Item& it : items.items) {
        if (!it.categorical[c].empty()) values.insert(it.categorical[c]);
      }
      CatCol col{c, std::vector<std::string>(values.begin(), values.end())};
      for (const auto& v : col.values) m.column_names.push_back(items.categorical_columns[c].name + "=" + v);
      d += static_cast<int>(col.values.size());
      cats.push_back(std::move(col));
    }
    if (mod == "text" && has_text) {
      for (Eigen::Index k = 0; k < text_embeddings->cols(); ++k) m.column_names.push_back("text[" + std::to_string(k) + "]");
      d += static_cast<int>(text_embeddings->cols());
    }
    block.end = d;
    num_cols.push_back(std::move(nums));
    cat_cols.push_back(std::move(cats));
    m.modalities.push_back(block);
  }

  m.vectors = RowMatrix::Zero(static_cast<Eigen::Index>(n), d);
  for (size_t r = 0; r < n; ++r) {
    const Item& it = items.items[order[r]];
    for (size_t b = 0; b < m.modalities.size(); ++b) {
      const ModalityBlock& block = m.modalities[b];
      int col = block.begin;
      for (const NumCol& nc : num_cols[b]) {
        double v = it.numeric[nc.src];
        if (std::isnan(v)) {
          ++m.report.imputed;
          v = 0;  // the median, after centring
        } else if (nc.scale > 0) {
          v = std::clamp((v - nc.centre) / nc.scale, -options.clip, options.clip);
        } else {
          v = 0;
        }
        m.vectors(static_cast<Eigen::Index>(r), col++) = static_cast<float>(v);
      }
      for (const CatCol& cc : cat_cols[b]) {
        const std::string& value = it.categorical[cc.src];
        auto pos = std::lower_bound(cc.values.begin(), cc.values.end(), value);
        if (!value.empty() && pos != cc.values.end() && *pos == value) {
          m.vectors(static_cast<Eigen::Index>(r), col + static_cast<int>(pos - cc.values.begin())) = 1.0f;
        }
        col += static_cast<int>(cc.values.size());
      }
      if (block.name == "text" && has_text) {
        m.vectors.row(static_cast<Eigen::Index>(r)).segment(col, text_embeddings->cols()) =
            text_embeddings->row(static_cast<Eigen::Index>(order[r]));
        if (text_embeddings->row(static_cast<Eigen::Index>(order[r])).squaredNorm() > 0) ++m.report.text_items;
      }
      // L2-normalise the modality block, then weight it.
      auto seg = m.vectors.row(static_cast<Eigen::Index>(r)).segment(block.begin, block.end - block.begin);
      double norm = seg.cast<double>().norm();
      if (norm > 0) seg *= static_cast<float>(block.weight / norm);
    }
    if (m.vectors.row(static_cast<Eigen::Index>(r)).squaredNorm() == 0) m.report.zero_items.push_back(it.item_id);
  }
  return m;
}

}  // namespace avrec
