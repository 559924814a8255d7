// Plugins: shared libraries avrec loads at run time with dlopen, so that the
// executable does not link what only some stages need (libtorch: the model
// runtime; libsentencepiece: its private protobuf clashes with libtorch's).
#pragma once

#include <string>

namespace avrec {

// Folder holding the running executable.
std::string ExecutableDir();

// dlopen()s `file_name` (e.g. "libavrec_torch.so") from, in order: the path in
// environment variable `env_var`, the executable's folder and its ../ and
// ../lib/avrec, the install prefix's lib/avrec, and the build folder. Returns
// the handle, or nullptr with *error saying what was tried and why it failed.
// `flags` are dlopen's (RTLD_NOW | RTLD_LOCAL, ...).
void* OpenPlugin(const std::string& file_name, const char* env_var, int flags, std::string* error);

}  // namespace avrec
