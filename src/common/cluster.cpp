#include "common/cluster.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "avrec/error.h"
#include "common/cluster_abi.h"
#include "common/plugin.h"

namespace avrec {

namespace {

const AvrecMpiApi* g_mpi = nullptr;
Cluster g_cluster;

// Whether mpirun (Open MPI, or a PMI launcher such as srun) started us.
bool LaunchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

void Check(int rc, const char* what) {
  if (rc != 0) Fail(ExitCode::kSoftware, "MPI: ", what, " failed");
}

}  // namespace

Cluster& Cluster::Get() { return g_cluster; }

void Cluster::Init() {
  if (g_mpi != nullptr || !LaunchedByMpi()) return;
  std::string error;
  // RTLD_GLOBAL: Open MPI loads its own components, which need libmpi's symbols.
  void* lib = OpenPlugin("libavrec_mpi.so", "AVREC_MPI_LIB", RTLD_NOW | RTLD_GLOBAL, &error);
  if (lib == nullptr) Fail(ExitCode::kSoftware, "started by mpirun, but the MPI plugin cannot be loaded: ", error);
  auto fn = reinterpret_cast<AvrecMpiApiFn>(dlsym(lib, "avrec_mpi_api"));
  const AvrecMpiApi* api = fn != nullptr ? fn() : nullptr;
  if (api == nullptr || api->abi_version != kAvrecMpiAbiVersion) {
    Fail(ExitCode::kSoftware, "libavrec_mpi.so is not this avrec's MPI plugin (ABI version mismatch)");
  }
  char err[256] = "";
  if (api->init(&g_cluster.rank_, &g_cluster.size_, err, sizeof err) != 0) Fail(ExitCode::kSoftware, "MPI: ", err);
  g_mpi = api;
}

void Cluster::Finalize() {
  if (g_mpi != nullptr) g_mpi->finalize();
  g_mpi = nullptr;
}

void Cluster::Barrier() const {
  if (g_mpi != nullptr) Check(g_mpi->barrier(), "barrier");
}

std::vector<std::string> Cluster::Gather(const std::string& mine) const {
  if (g_mpi == nullptr) return {mine};
  void* buf = nullptr;
  std::vector<uint64_t> sizes(static_cast<size_t>(size_));
  Check(g_mpi->gather(mine.data(), mine.size(), &buf, sizes.data()), "gather");
  std::vector<std::string> out;
  if (!root()) return out;
  std::unique_ptr<void, void (*)(void*)> owned(buf, g_mpi->free_buffer);
  const char* p = static_cast<const char*>(buf);
  for (uint64_t s : sizes) {
    out.emplace_back(p, s);
    p += s;
  }
  return out;
}

std::string Cluster::Broadcast(const std::string& data) const {
  if (g_mpi == nullptr) return data;
  void* buf = root() ? const_cast<char*>(data.data()) : nullptr;
  uint64_t size = root() ? data.size() : 0;
  Check(g_mpi->broadcast(&buf, &size), "broadcast");
  if (root()) return data;
  std::unique_ptr<void, void (*)(void*)> owned(buf, g_mpi->free_buffer);
  return std::string(static_cast<const char*>(buf), size);
}

void Cluster::Abort(int code) const {
  if (g_mpi != nullptr) g_mpi->abort(code);
  std::_Exit(code);
}

void PackU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }

void PackString(std::string* out, const std::string& s) {
  PackU64(out, s.size());
  out->append(s);
}

void PackFloats(std::string* out, const float* v, size_t n) {
  out->append(reinterpret_cast<const char*>(v), n * sizeof(float));
}

void Unpacker::Need(size_t n) const {
  if (s_.size() - pos_ < n) Fail(ExitCode::kSoftware, "MPI: a message from another rank is truncated");
}

uint64_t Unpacker::U64() {
  Need(sizeof(uint64_t));
  uint64_t v;
  std::memcpy(&v, s_.data() + pos_, sizeof v);
  pos_ += sizeof v;
  return v;
}

std::string Unpacker::String() {
  const uint64_t n = U64();
  Need(n);
  std::string s = s_.substr(pos_, n);
  pos_ += n;
  return s;
}

void Unpacker::Floats(float* v, size_t n) {
  Need(n * sizeof(float));
  std::memcpy(v, s_.data() + pos_, n * sizeof(float));
  pos_ += n * sizeof(float);
}

}  // namespace avrec
