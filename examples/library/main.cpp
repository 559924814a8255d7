// avrec as a library: the pipeline's stages called in memory, no workspace.
//
//   recommend_sample REVIEWS ITEMS [SENTIMENT_MODEL_DIR]
//
// Reads the files, scores every review's sentiment, builds item vectors and
// sentiment-weighted profiles, and prints each user's best item.
#include <avrec/pipeline.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s REVIEWS ITEMS [SENTIMENT_MODEL_DIR]\n", argv[0]);
    return 64;
  }
  try {
    avrec::PipelineConfig config;
    config.inputs.reviews = argv[1];
    config.inputs.items = argv[2];
    config.item_vectors.text_model = "none";  // audio and visual features only
    config.recommend.top_n = 1;
    config.Validate();

    avrec::ProblemLog problems(10, [](const avrec::Problem& p) {
      std::fprintf(stderr, "%s:%lld: %s\n", p.path.c_str(), static_cast<long long>(p.line), p.message.c_str());
    });
    const avrec::Dataset data = avrec::ReadDataset(config.inputs, &problems);
    const avrec::SentimentResult sentiment =
        avrec::ScoreSentiment(data.reviews, argc > 3 ? argv[3] : "", config.encoder, /*cache=*/nullptr);
    const avrec::ItemVectors items = avrec::BuildItemVectors(data.item_table, config.item_vectors, 0, nullptr);
    const avrec::Profiles profiles = avrec::BuildUserProfiles(data.reviews, &sentiment, items, config.profile);
    avrec::Rank(items, profiles, config.recommend, [](const avrec::UserRecommendations& u) {
      if (!u.items.empty())
        std::printf("%s\t%s\t%.4f\n", u.user_id.c_str(), u.items[0].item_id.c_str(), u.items[0].score);
    });
  } catch (const avrec::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  return 0;
}
