// libavrec_mpi.so: the MPI calls avrec makes, behind the C interface of
// common/cluster_abi.h. Chunked point-to-point transfers carry messages
// larger than an int count.
// The C API only (Open MPI would pull in its deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/cluster_abi.h"

namespace {

constexpr uint64_t kChunk = uint64_t{1} << 30;  // bytes per MPI call
int g_rank = 0, g_size = 1;

int SendBytes(const char* p, uint64_t n, int to, int tag) {
  for (uint64_t off = 0; off < n; off += kChunk) {
    const int len = static_cast<int>(std::min(kChunk, n - off));
    if (MPI_Send(p + off, len, MPI_BYTE, to, tag, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  }
  return 0;
}

int RecvBytes(char* p, uint64_t n, int from, int tag) {
  for (uint64_t off = 0; off < n; off += kChunk) {
    const int len = static_cast<int>(std::min(kChunk, n - off));
    if (MPI_Recv(p + off, len, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
  }
  return 0;
}

int Init(int* rank, int* size, char* err, size_t err_size) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    std::snprintf(err, err_size, "MPI_Init_thread failed");
    return -1;
  }
  // Errors return codes instead of aborting inside MPI, so avrec names them.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  *rank = g_rank;
  *size = g_size;
  return 0;
}

void Finalize() { MPI_Finalize(); }

void Abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int Barrier() { return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1; }

int Gather(const void* data, uint64_t size, void** out, uint64_t* out_sizes) {
  std::vector<uint64_t> sizes(static_cast<size_t>(g_size));
  if (MPI_Gather(&size, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  if (g_rank != 0) return SendBytes(static_cast<const char*>(data), size, 0, 1);
  uint64_t total = 0;
  for (uint64_t s : sizes) total += s;
  char* buf = static_cast<char*>(std::malloc(std::max<uint64_t>(total, 1)));
  if (buf == nullptr) return -1;
  uint64_t off = 0;
  for (int r = 0; r < g_size; ++r) {
    out_sizes[r] = sizes[static_cast<size_t>(r)];
    if (r == 0) {
      if (size > 0) std::memcpy(buf, data, size);
    } else if (RecvBytes(buf + off, sizes[static_cast<size_t>(r)], r, 1) != 0) {
      std::free(buf);
      return -1;
    }
    off += sizes[static_cast<size_t>(r)];
  }
  *out = buf;
  return 0;
}

int Broadcast(void** data, uint64_t* size) {
  if (MPI_Bcast(size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  char* buf = static_cast<char*>(*data);
  if (g_rank != 0) {
    buf = static_cast<char*>(std::malloc(std::max<uint64_t>(*size, 1)));
    if (buf == nullptr) return -1;
    *data = buf;
  }
  for (uint64_t off = 0; off < *size; off += kChunk) {
    const int len = static_cast<int>(std::min(kChunk, *size - off));
    if (MPI_Bcast(buf + off, len, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  }
  return 0;
}

void FreeBuffer(void* p) { std::free(p); }

const AvrecMpiApi kApi = {kAvrecMpiAbiVersion, Init, Finalize, Abort, Barrier, Gather, Broadcast, FreeBuffer};

}  // namespace

extern "C" __attribute__((visibility("default"))) const AvrecMpiApi* avrec_mpi_api(void) { return &kApi; }
