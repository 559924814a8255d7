// avrec's side of the benchmarks: named workloads timed in-process (model
// loading and process start excluded, as for the Python peers), printing one
// JSON object. The Python scripts beside this file run it and the peers in
// one run and print the ratios.
//
// Workloads:
//   tokenize --model DIR --input FILE [--repeat N]
//       single-threaded Tokenizer::Encode over every line of FILE
//   score --model DIR --input FILE [--threads N] [--precision P] [--batch-size B] [--max-batch-tokens T]
//       TextEncoder::Run (tokenization, batching, inference) over every line
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "avrec/encoder.h"
#include "avrec/error.h"
#include "avrec/io.h"
#include "avrec/model.h"
#include "avrec/tokenizer.h"

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) avrec::Fail(avrec::ExitCode::kNoInput, path, ": cannot open");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(avrec::SanitizeUtf8(line));
  return out;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"avrec benchmark workloads"};
  app.require_subcommand(1);
  std::string model, input, precision = "auto";
  int repeat = 3, threads = 0, batch = 64, tokens_budget = 1024;
  auto* tok = app.add_subcommand("tokenize", "single-threaded tokenization");
  auto* score = app.add_subcommand("score", "TextEncoder::Run");
  for (auto* s : {tok, score}) {
    s->add_option("--model", model)->required();
    s->add_option("--input", input)->required();
  }
  tok->add_option("--repeat", repeat, "best of N passes")->capture_default_str();
  score->add_option("--threads", threads)->capture_default_str();
  score->add_option("--precision", precision)->capture_default_str();
  score->add_option("--batch-size", batch)->capture_default_str();
  score->add_option("--max-batch-tokens", tokens_budget)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    avrec::ModelManifest m = avrec::LoadModelManifest(model);
    std::vector<std::string> texts = Lines(input);
    nlohmann::ordered_json out;
    out["texts"] = texts.size();
    if (tok->parsed()) {
      auto t = avrec::MakeTokenizer(m.tokenizer);
      double best = 1e300;
      size_t tokens = 0;
      std::vector<int32_t> ids;
      for (int r = 0; r < repeat; ++r) {
        tokens = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (const auto& s : texts) {
          ids.clear();
          t->Encode(s, &ids);
          tokens += ids.size() + 2;  // with [CLS] and [SEP], as the reference counts them
        }
        best = std::min(best, Seconds(t0));
      }
      out["tokens"] = tokens;
      out["seconds"] = best;
      out["tokens_per_second"] = static_cast<double>(tokens) / best;
    } else {
      avrec::EncoderOptions o;
      o.threads = threads;
      o.precision = avrec::ParsePrecision(precision);
      o.max_batch_size = batch;
      o.max_batch_tokens = tokens_budget;
      avrec::TextEncoder enc(m, o);
      std::vector<float> res;
      std::vector<avrec::EncodeInfo> info;
      enc.Run({texts.begin(), texts.begin() + std::min<size_t>(texts.size(), 64)}, &res, &info);  // warm-up
      auto t0 = std::chrono::steady_clock::now();
      enc.Run(texts, &res, &info);
      double secs = Seconds(t0);
      int64_t tokens = 0;
      for (const auto& i : info) tokens += std::min(i.tokens, m.max_length - 2) + 2;
      out["precision"] = avrec::PrecisionName(enc.precision());
      out["threads"] = enc.threads();
      out["tokens"] = tokens;
      out["seconds"] = secs;
      out["texts_per_second"] = static_cast<double>(texts.size()) / secs;
      out["tokens_per_second"] = static_cast<double>(tokens) / secs;
    }
    std::printf("%s\n", out.dump().c_str());
  } catch (const avrec::Error& e) {
    std::fprintf(stderr, "avrec_bench: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  return 0;
}
