#include "common/plugin.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <vector>

namespace avrec {

std::string ExecutableDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

void* OpenPlugin(const std::string& file_name, const char* env_var, int flags, std::string* error) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') candidates.push_back(env);
  const std::string exe = ExecutableDir();
  candidates.push_back(exe + "/" + file_name);
  candidates.push_back(exe + "/../" + file_name);
  candidates.push_back(exe + "/../lib/avrec/" + file_name);
  candidates.push_back(std::string(AVREC_INSTALL_LIBDIR) + "/" + file_name);
  candidates.push_back(std::string(AVREC_BUILD_DIR) + "/" + file_name);
  std::string tried, failure;
  for (const auto& path : candidates) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      tried += " " + path;
      continue;
    }
    if (void* lib = dlopen(path.c_str(), flags)) return lib;
    failure = dlerror();
  }
  *error = failure.empty() ? file_name + " not found in:" + tried + " (set " + env_var + ")" : failure;
  return nullptr;
}

}  // namespace avrec
