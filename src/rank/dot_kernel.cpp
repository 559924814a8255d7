#include "dot_kernel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace avrec::kernel {

namespace {

#if defined(__x86_64__)
constexpr int kTileRows = 8;

bool CpuHasAvx512() {
  __builtin_cpu_init();
  // libgcc also checks that the OS saves the zmm registers (XCR0).
  return __builtin_cpu_supports("avx512f") != 0;
}

// Accumulates R rows x 2 panels over every dimension, then stores the valid
// columns (masks m0, m1).
template <int R>
__attribute__((target("avx512f"), always_inline)) inline void Tile(const float* a, int d, const float* b0,
                                                                   const float* b1, float* c, size_t ldc, __mmask16 m0,
                                                                   __mmask16 m1) {
  __m512 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
  }
  for (int j = 0; j < d; ++j) {
    const __m512 x0 = _mm512_loadu_ps(b0 + static_cast<size_t>(j) * kPanel);
    const __m512 x1 = _mm512_loadu_ps(b1 + static_cast<size_t>(j) * kPanel);
    for (int r = 0; r < R; ++r) {
      const __m512 s = _mm512_set1_ps(a[static_cast<size_t>(r) * d + j]);
      acc0[r] = _mm512_fmadd_ps(s, x0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(s, x1, acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(c + static_cast<size_t>(r) * ldc, m0, acc0[r]);
    _mm512_mask_storeu_ps(c + static_cast<size_t>(r) * ldc + kPanel, m1, acc1[r]);
  }
}

__mmask16 ColumnMask(int remaining) {
  if (remaining <= 0) return 0;
  return remaining >= kPanel ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}
#else
bool CpuHasAvx512() { return false; }
#endif

}  // namespace

Isa ChooseIsa() {
  static const Isa chosen = [] {
    const char* env = std::getenv("AVREC_ISA");
    const bool forced_generic = env != nullptr && (std::strcmp(env, "avx2") == 0 || std::strcmp(env, "eigen") == 0);
    return !forced_generic && CpuHasAvx512() ? Isa::kAvx512 : Isa::kEigen;
  }();
  return chosen;
}

std::string IsaName(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "eigen"; }

PackedItems Pack(const RowMatrix& items) {
  PackedItems p;
  p.items = static_cast<int>(items.rows());
  p.dims = static_cast<int>(items.cols());
  const size_t panels = (static_cast<size_t>(p.items) + kPanel - 1) / kPanel;
  p.data.assign(panels * static_cast<size_t>(p.dims) * kPanel, 0.0f);
  for (int i = 0; i < p.items; ++i) {
    float* panel = p.data.data() + static_cast<size_t>(i / kPanel) * p.dims * kPanel;
    for (int j = 0; j < p.dims; ++j) panel[static_cast<size_t>(j) * kPanel + i % kPanel] = items(i, j);
  }
  return p;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void DotAvx512(const float* rows, int count, const PackedItems& items, float* out) {
  const int n = items.items, d = items.dims;
  const int panels = (n + kPanel - 1) / kPanel;
  const size_t panel_size = static_cast<size_t>(d) * kPanel;
  const size_t ldc = static_cast<size_t>(n);
  for (int p = 0; p < panels; p += 2) {
    const float* b0 = items.data.data() + static_cast<size_t>(p) * panel_size;
    const bool two = p + 1 < panels;
    const float* b1 = two ? b0 + panel_size : b0;  // a lone last panel is computed twice, stored once
    const __mmask16 m0 = ColumnMask(n - p * kPanel);
    const __mmask16 m1 = two ? ColumnMask(n - (p + 1) * kPanel) : 0;
    float* c = out + static_cast<size_t>(p) * kPanel;
    int r = 0;
    for (; r + kTileRows <= count; r += kTileRows)
      Tile<kTileRows>(rows + static_cast<size_t>(r) * d, d, b0, b1, c + r * ldc, ldc, m0, m1);
    for (; r < count; ++r) Tile<1>(rows + static_cast<size_t>(r) * d, d, b0, b1, c + r * ldc, ldc, m0, m1);
  }
}
#else
void DotAvx512(const float*, int, const PackedItems&, float*) { std::abort(); }  // never chosen
#endif

}  // namespace avrec::kernel
