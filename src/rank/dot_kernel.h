// Float inner products of a block of rows against every item, with the
// instruction set chosen when the program runs.
//
// The binary is built for x86-64-v3 (AVX2 + FMA), where Eigen's GEMM does
// the work. On a CPU with AVX-512 a hand-written kernel takes over: items are
// packed once into panels of 16 (d rows of 16 floats each), and a tile of 8
// users x 2 panels keeps 16 accumulators in registers while each item value
// is loaded once per 8 users. Every output is one FMA chain over the
// dimensions in ascending order, so its value does not depend on which tile,
// block or thread computed it; the exact rescoring of the top-k (double)
// makes the final lists identical under either kernel.
#pragma once

#include <string>
#include <vector>

#include "avrec/features.h"

namespace avrec::kernel {

enum class Isa { kEigen, kAvx512 };

// AVX-512 where the CPU and OS support it; AVREC_ISA=avx2 (or eigen) forces
// the build's Eigen kernel (benchmarks and tests compare the two).
Isa ChooseIsa();
std::string IsaName(Isa isa);

constexpr int kPanel = 16;

// Items as panels: panel p holds items [16p, 16p + 16) as d rows of 16 floats,
// zero padded past the last item.
struct PackedItems {
  std::vector<float> data;
  int items = 0;
  int dims = 0;
};
PackedItems Pack(const RowMatrix& items);

// out[r * items + i] = <rows[r], item i> for r in [0, count); rows are
// contiguous with stride dims. Requires Isa::kAvx512.
void DotAvx512(const float* rows, int count, const PackedItems& items, float* out);

}  // namespace avrec::kernel
