// The text modality of items: title, tags and description embedded with a
// sentence-encoder model, cached in the workspace.
#pragma once

#include <cstdint>

#include "avrec/data.h"
#include "avrec/encoder.h"
#include "avrec/features.h"

namespace avrec {

class Workspace;

// One row per item of `items.items` (same order): the unit-length embedding
// of ItemText(item), or zeros for an item without text. With a workspace,
// embeddings are cached there; *reused counts cache hits.
RowMatrix EmbedItemTexts(const ItemTable& items, const TextEncoder& encoder, Workspace* cache, int64_t* reused);

}  // namespace avrec
