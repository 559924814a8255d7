#include <spdlog/spdlog.h>

#include "avrec/features.h"
#include "avrec/io.h"
#include "avrec/text_features.h"
#include "avrec/workspace.h"

namespace avrec {

RowMatrix EmbedItemTexts(const ItemTable& items, const TextEncoder& encoder, Workspace* cache, int64_t* reused) {
  const int dim = encoder.output_dim();
  RowMatrix out = RowMatrix::Zero(static_cast<Eigen::Index>(items.items.size()), dim);
  std::vector<std::string> texts;
  std::vector<size_t> rows;
  std::vector<std::string> keys;
  std::vector<float> v;
  *reused = 0;
  for (size_t i = 0; i < items.items.size(); ++i) {
    std::string text = SanitizeUtf8(ItemText(items.items[i]));
    if (text.empty()) continue;
    std::string key = ItemTextKey(items.items[i]);
    if (cache != nullptr && cache->FindEmbedding(encoder.result_key(), key, &v) && static_cast<int>(v.size()) == dim) {
      out.row(static_cast<Eigen::Index>(i)) = Eigen::Map<const Eigen::RowVectorXf>(v.data(), dim);
      ++*reused;
      continue;
    }
    texts.push_back(std::move(text));
    rows.push_back(i);
    keys.push_back(std::move(key));
  }
  if (!texts.empty()) {
    std::vector<float> emb;
    std::vector<EncodeInfo> info;
    encoder.Run(texts, &emb, &info);
    for (size_t k = 0; k < rows.size(); ++k) {
      if (info[k].empty) continue;
      out.row(static_cast<Eigen::Index>(rows[k])) = Eigen::Map<const Eigen::RowVectorXf>(&emb[k * dim], dim);
    }
    if (cache != nullptr && !cache->why_read_only().empty()) {
      spdlog::warn("{}: the {} item text embeddings computed now are not cached: {}", cache->path(), rows.size(),
                   cache->why_read_only());
    } else if (cache != nullptr) {
      cache->InTransaction([&] {
        for (size_t k = 0; k < rows.size(); ++k)
          cache->StoreEmbedding(encoder.result_key(), keys[k], &emb[k * dim], dim);
      });
    }
  }
  return out;
}

}  // namespace avrec
