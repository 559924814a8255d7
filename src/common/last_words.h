// What a process ended by SIGINT, SIGTERM or SIGHUP writes to its log as it
// goes: why it ended, and the run_end line a finished run ends its log with,
// so that a nightly job's log always says how the run ended.
#pragma once

namespace avrec {

// Prepares the lines in fixed buffers, from the log's format, level and
// context (SetupLogging, SetLogContext) and the time of the call (the run's
// start). Call from main, after those; without it, nothing is written.
void PrepareSignalLastWords();

// From here on nothing is written: the run has logged its own end.
void RetireSignalLastWords();

// Writes the lines for signal `sig` to stderr. Async-signal-safe: only
// write(2), clock_gettime(2) and arithmetic.
void WriteSignalLastWords(int sig);

}  // namespace avrec
