#include "avrec/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "avrec/error.h"
#include "avrec/text.h"
#include "common/last_words.h"

namespace avrec {

namespace {

LogFormat g_format = LogFormat::kText;  // set once by SetupLogging, from main
std::string g_run_id, g_subcommand;     // set once by SetLogContext, from main

// The event and fields of the LogEvent call being formatted (spdlog formats
// on the calling thread).
thread_local const std::string* t_event = nullptr;
thread_local const nlohmann::json* t_fields = nullptr;
std::function<void(const std::string&, const nlohmann::json&)> g_observer;

// Formats a log record as one JSON object per line, escaping the message.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using clock = std::chrono::system_clock;
    auto t = clock::to_time_t(msg.time);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm;
    gmtime_r(&t, &tm);
    char ts[80];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    nlohmann::ordered_json j;
    j["ts"] = ts;
    auto level = spdlog::level::to_string_view(msg.level);
    j["level"] = std::string(level.data(), level.size());
    j["event"] = t_event != nullptr ? *t_event : "message";
    j["run_id"] = g_run_id;
    j["subcommand"] = g_subcommand;
    if (t_fields != nullptr && t_fields->is_object()) {
      for (auto it = t_fields->begin(); it != t_fields->end(); ++it) j[it.key()] = it.value();
    }
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Formats a log record as "avrec: LEVEL: message", the message's control
// bytes escaped (EscapeControls): one record, one line of plain text.
class TextFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "avrec: " + std::string(level.data(), level.size()) + ": " +
                       EscapeControls(std::string_view(msg.payload.data(), msg.payload.size())) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

}  // namespace

void SetupLogging(const std::string& level, LogFormat format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    Fail(ExitCode::kUsage, "--log-level: unknown level '", level,
         "' (expected trace, debug, info, warn, error, critical or off)");
  }
  g_format = format;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("avrec", sink);
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

LogFormat CurrentLogFormat() { return g_format; }

void SetLogContext(const std::string& run_id, const std::string& subcommand) {
  g_run_id = run_id;
  g_subcommand = subcommand;
}

const std::string& RunId() { return g_run_id; }

std::string LogTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return ts;
}

std::string NewRunId() {
  const std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(::getpid()));
  return buf;
}

void SetEventObserver(std::function<void(const std::string& event, const nlohmann::json& fields)> observer) {
  g_observer = std::move(observer);
}

void LogEvent(int level, const std::string& event, const nlohmann::json& fields, const std::string& message) {
  if (g_observer) g_observer(event, fields);
  t_event = &event;
  t_fields = &fields;
  spdlog::log(static_cast<spdlog::level::level_enum>(level), "{}", message);
  t_event = nullptr;
  t_fields = nullptr;
}

void PrintProblem(const Problem& p) {
  if (g_format == LogFormat::kJson) {
    LogEvent(spdlog::level::err, "input_problem", {{"file", p.path}, {"line", p.line}}, p.message);
    return;
  }
  const std::string line = EscapeControls(p.path + ":" + std::to_string(p.line) + ": " + p.message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void PrintUnreportedCount(const ProblemLog& problems, bool max_errors_option) {
  if (problems.unreported() == 0) return;
  spdlog::error("... and {} more problems not shown{}", problems.unreported(),
                max_errors_option ? " (raise --max-errors to see them)" : "");
}

void FailOnInvalidRows(const ProblemLog& problems, const std::string& what, const std::string& then,
                       bool max_errors_option) {
  if (problems.count() == 0) return;
  PrintUnreportedCount(problems, max_errors_option);
  // A header problem is not an invalid row: no row of that file was read.
  const size_t rows = problems.count() - problems.file_problems();
  std::string found = problems.file_problems() == 0 ? ""
                      : what.empty() ? "no row of a file can be read: the problem with its header is above"
                                     : "no row can be read: the problem with its header is above";
  if (rows > 0) found += (found.empty() ? "" : "; ") + CountOf(static_cast<int64_t>(rows), "invalid row");
  Fail(ExitCode::kDataErr, what, what.empty() ? "" : ": ", found, then);
}

Progress::Progress(std::string label, int64_t total, std::chrono::milliseconds every, Unit unit)
    : label_(std::move(label)),
      unit_(unit),
      total_(total),
      every_(every),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      first_tick_(start_) {
  const bool info = spdlog::default_logger()->level() <= spdlog::level::info;
  enabled_ = ::isatty(STDERR_FILENO) == 1 && g_format == LogFormat::kText && info;
  events_ = !enabled_ && info;
}

Progress::~Progress() { Finish(); }

void Progress::Tick(int64_t n) {
  done_ += n;
  if (done_at_first_tick_ < 0) {
    done_at_first_tick_ = done_;
    first_tick_ = std::chrono::steady_clock::now();
  }
  if (events_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ >= every_) {
      last_draw_ = now;
      Report();
    }
    return;
  }
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::milliseconds(500) || now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(false);
}

double Progress::Rate() const {
  if (done_at_first_tick_ < 0 || done_ == done_at_first_tick_) return 0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_tick_).count();
  return secs > 0 ? static_cast<double>(done_ - done_at_first_tick_) / secs : 0;
}

std::string Progress::Amount(double n) const {
  if (unit_ == Unit::kItems) return std::to_string(static_cast<int64_t>(n));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  return buf;
}

void Progress::Report() {
  const double rate = Rate();
  nlohmann::json f = {{"stage", label_}, {"done", done_}, {"rate_per_s", std::round(rate * 10) / 10}};
  if (unit_ == Unit::kBytes) f["unit"] = "bytes";
  std::string msg = label_ + ": " + Amount(static_cast<double>(done_));
  if (total_ > 0) {
    f["total"] = total_;
    msg += unit_ == Unit::kBytes ? " of " + Amount(static_cast<double>(total_)) + " (" +
                                       std::to_string(static_cast<int>(100.0 * done_ / total_)) + " %)"
                                 : "/" + std::to_string(total_);
    if (rate > 0) {
      f["eta_s"] = std::round(static_cast<double>(total_ - done_) / rate);
      msg += ", ETA " + std::to_string(static_cast<int64_t>(f["eta_s"].get<double>())) + " s";
    }
  }
  LogEvent(2, "progress", f, msg);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (drawn_) {
    Draw(true);
    std::fputs("\n", stderr);
  }
}

void Progress::Draw(bool final) {
  drawn_ = true;
  const double rate = Rate();
  if (total_ <= 0) {  // unknown total: count and rate only
    std::fprintf(stderr, "\r%s %s %s/s\033[K", label_.c_str(), Amount(static_cast<double>(done_)).c_str(),
                 Amount(rate).c_str());
    std::fflush(stderr);
    return;
  }
  constexpr int kWidth = 30;
  double frac = total_ > 0 ? std::min(1.0, static_cast<double>(done_) / total_) : 0;
  int fill = static_cast<int>(frac * kWidth);
  std::string bar(fill, '=');
  if (fill < kWidth) bar += '>' + std::string(kWidth - fill - 1, ' ');
  char eta[32] = "";
  if (!final && rate > 0 && total_ > done_) {
    int s = static_cast<int>((total_ - done_) / rate);
    std::snprintf(eta, sizeof eta, " ETA %d:%02d", s / 60, s % 60);
  }
  if (unit_ == Unit::kBytes) {
    std::fprintf(stderr, "\r%s [%s] %.1f/%.1f MB %.1f MB/s%s\033[K", label_.c_str(), bar.c_str(), done_ / 1e6,
                 total_ / 1e6, rate / 1e6, eta);
  } else {
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %.0f/s%s\033[K", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), rate, eta);
  }
  std::fflush(stderr);
}

namespace {

// What the signal handler needs, fixed before any signal can come.
struct LastWords {
  std::atomic<bool> ready{false};
  bool json = false, error = false, info = false;  // the format; which levels print
  char context[1024] = {};                         // JSON: "run_id":"...","subcommand":"..."
  timespec start = {};                             // CLOCK_MONOTONIC
};
LastWords g_last_words;

// A line built in a fixed buffer, without allocation (a signal handler's).
class SafeLine {
 public:
  SafeLine& operator<<(const char* s) {
    while (*s != '\0' && n_ < sizeof buf_) buf_[n_++] = *s++;
    return *this;
  }
  // `v` in decimal, at least `width` digits.
  SafeLine& Number(uint64_t v, int width = 1) {
    char digits[24];
    int k = 0;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0 || k < width);
    while (k > 0 && n_ < sizeof buf_) buf_[n_++] = digits[--k];
    return *this;
  }
  // Milliseconds as seconds with three decimals: 2011 -> 2.011.
  SafeLine& Seconds(uint64_t ms) { return Number(ms / 1000) << ".", Number(ms % 1000, 3); }
  // The line so far, NUL-terminated (the last byte is given up for it when full).
  const char* c_str() {
    buf_[n_ < sizeof buf_ ? n_ : sizeof buf_ - 1] = '\0';
    return buf_;
  }
  void Write() const {
    for (size_t done = 0; done < n_;) {
      const ssize_t w = ::write(STDERR_FILENO, buf_ + done, n_ - done);
      if (w <= 0) return;
      done += static_cast<size_t>(w);
    }
  }

 private:
  char buf_[2048];
  size_t n_ = 0;
};

// The current UTC time as LogTimestamp writes it, from arithmetic alone
// (gmtime_r is not async-signal-safe): days to a civil date as in Howard
// Hinnant's "chrono-compatible low-level date algorithms".
void AppendUtcNow(SafeLine* line) {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t secs = now.tv_sec, days = secs / 86400, of_day = secs % 86400;
  const int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  line->Number(static_cast<uint64_t>(year), 4) << "-";
  line->Number(static_cast<uint64_t>(month), 2) << "-";
  line->Number(static_cast<uint64_t>(day), 2) << "T";
  line->Number(static_cast<uint64_t>(of_day / 3600), 2) << ":";
  line->Number(static_cast<uint64_t>(of_day / 60 % 60), 2) << ":";
  line->Number(static_cast<uint64_t>(of_day % 60), 2) << ".";
  line->Number(static_cast<uint64_t>(now.tv_nsec / 1000000), 3) << "Z";
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGPIPE:
      return "SIGPIPE";
    default:
      return "a signal";
  }
}

}  // namespace

void PrepareSignalLastWords() {
  LastWords& w = g_last_words;
  const auto level = spdlog::get_level();
  w.json = g_format == LogFormat::kJson;
  w.error = level <= spdlog::level::err;
  w.info = level <= spdlog::level::info;
  const std::string context =
      "\"run_id\":" + nlohmann::json(g_run_id).dump() + ",\"subcommand\":" + nlohmann::json(g_subcommand).dump();
  std::snprintf(w.context, sizeof w.context, "%s", context.c_str());
  ::clock_gettime(CLOCK_MONOTONIC, &w.start);
  w.ready.store(true);
}

void RetireSignalLastWords() { g_last_words.ready.store(false); }

// The start of a last line: "avrec: LEVEL: " in text; in JSON the fields
// every line has, then this event's fields (`fields`: a ',"k":v' run, or
// ""), up to the message's opening quote.
void BeginLastLine(SafeLine* line, const LastWords& w, const char* level, const char* event, const char* fields) {
  if (!w.json) {
    *line << "avrec: " << level << ": ";
    return;
  }
  *line << "{\"ts\":\"";
  AppendUtcNow(line);
  *line << "\",\"level\":\"" << level << "\",\"event\":\"" << event << "\"," << w.context << fields << ",\"msg\":\"";
}

void WriteSignalLastWords(int sig) {
  const LastWords& w = g_last_words;
  if (!w.ready.load()) return;
  timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t ms = (now.tv_sec - w.start.tv_sec) * 1000 + (now.tv_nsec - w.start.tv_nsec) / 1000000;
  const uint64_t elapsed = ms > 0 ? static_cast<uint64_t>(ms) : 0;
  const uint64_t code = 128 + static_cast<uint64_t>(sig);
  const char* name = SignalName(sig);
  const char* end = w.json ? "\"}\n" : "\n";
  if (w.error) {
    SafeLine fields;
    fields << ",\"signal\":\"" << name << "\"";
    SafeLine line;
    BeginLastLine(&line, w, "error", "signal", fields.c_str());
    line << "terminated by " << name << " after ";
    line.Seconds(elapsed) << " s (temporary files removed)" << end;
    line.Write();
  }
  if (w.info) {
    SafeLine fields;
    fields << ",\"exit_code\":";
    fields.Number(code) << ",\"seconds\":";
    fields.Seconds(elapsed);
    SafeLine line;
    BeginLastLine(&line, w, "info", "run_end", fields.c_str());
    line << "done: exit ";
    line.Number(code) << " after ";
    line.Seconds(elapsed) << " s" << end;
    line.Write();
  }
}

}  // namespace avrec
