// Item vectors: numeric features standardised per column, categorical ones
// one-hot encoded, text embedded; each modality L2-normalised and weighted,
// then concatenated. The method is written down in docs/model.md.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "avrec/data.h"

namespace avrec {

// Row-major float matrix: one row per user or item.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct FeatureOptions {
  // Weight of each modality ("audio", "visual", "text", ...); absent: 1.
  std::map<std::string, double> modality_weights;
  // Standardised values are clipped to [-clip, clip] (robust to outliers).
  double clip = 5.0;
};

// A contiguous range of columns belonging to one modality.
struct ModalityBlock {
  std::string name;
  int begin = 0, end = 0;  // columns [begin, end)
  double weight = 1.0;
};

struct FeatureReport {
  int64_t imputed = 0;                        // missing numeric values filled with the median
  std::vector<std::string> constant_columns;  // no spread: contribute nothing
  std::vector<std::string> zero_items;        // items whose whole vector is zero
  int text_items = 0;                         // items with text embedded
  // Categorical columns with values that belong to one item only: such a
  // value gets no column (it cannot make two items alike, and an id-like
  // column would otherwise get a column per item).
  struct SingleItemValues {
    std::string column;
    int64_t single = 0, values = 0;  // values held by one item; distinct values
  };
  std::vector<SingleItemValues> single_item_values;
};

struct ItemMatrix {
  std::vector<std::string> ids;  // sorted ascending; row i is ids[i]
  RowMatrix vectors;             // size n * d, rows NOT normalised overall
  std::vector<ModalityBlock> modalities;
  std::vector<std::string> column_names;  // size d: "audio.tempo", "visual.colour=red", "text[17]"
  FeatureReport report;
  // The items' tags, for models that read them as they are (EASE's tag
  // term): tag_names sorted, distinct, ASCII letters lower-cased ("Pop" and
  // "pop" are one tag); tags[row] the ids of row's tags, ascending. Empty
  // when no item has a tag.
  std::vector<std::string> tag_names;
  std::vector<std::vector<int>> tags;

  int Find(const std::string& id) const;  // row of an item id, or -1
};

// Fails (exit 64) when `options` weights a modality that no feature column
// of `items` has (a misspelling: audo=1.5), naming those it has; "text"
// passes, as the text modality comes from an embedding model. Cheap: called
// on reading the items, before hours of scoring, and by BuildItemMatrix.
void CheckModalityWeights(const ItemTable& items, const FeatureOptions& options);

// Builds the item matrix. `text_embeddings` (may be null) holds one row per
// item of `items.items`, in that order (unit length, or zero when the item
// has no text); it becomes the "text" modality.
ItemMatrix BuildItemMatrix(const ItemTable& items, const FeatureOptions& options, const RowMatrix* text_embeddings);

}  // namespace avrec
