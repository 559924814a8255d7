// The C interface between avrec and its MPI plugin, libavrec_mpi.so
// (src/cluster/mpi_plugin.cpp), which alone links Open MPI: a process not
// started by mpirun never loads it. Plain C types only.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {

enum { kAvrecMpiAbiVersion = 1 };

struct AvrecMpiApi {
  int abi_version;  // kAvrecMpiAbiVersion
  // MPI_Init and the world's rank and size. Returns 0, or -1 with a message.
  int (*init)(int* rank, int* size, char* err, size_t err_size);
  void (*finalize)(void);
  // MPI_Abort of the world: every rank ends, mpirun exits with `code`.
  void (*abort)(int code);
  int (*barrier)(void);
  // Every rank's `size` bytes to rank 0. On rank 0, *out receives a buffer
  // (free with free_buffer) holding each rank's bytes in rank order, and
  // out_sizes[r] their sizes (out_sizes has room for every rank). Messages
  // of any size (sent in chunks). Returns 0 or -1.
  int (*gather)(const void* data, uint64_t size, void** out, uint64_t* out_sizes);
  // Rank 0's bytes to every rank: on rank 0 *data / *size are the input; on
  // the others they receive a buffer (free with free_buffer). Returns 0 or -1.
  int (*broadcast)(void** data, uint64_t* size);
  void (*free_buffer)(void* p);
};

const AvrecMpiApi* avrec_mpi_api(void);
typedef const AvrecMpiApi* (*AvrecMpiApiFn)(void);
}
