// genre/model: the row kernels of batch_norm_pool.h (internal to genre_lib).
//
// A window's choice is kept as its position inside the window (i * kw + j for row i, column j),
// one byte, rather than an offset in the plane: a quarter of the memory for 2 x 2 pools, and the
// backward writes each input row in one vectorised pass without scattering. The 2 x 2 pools of
// the CRNNs' first blocks (most of the time) have AVX2 paths chosen at run time; every path gives
// the same bits as the portable one.
#pragma once

#include <cstdint>

namespace genre::bn_pool {

// The largest window batch_norm_max_pool handles (positions are one byte).
constexpr int64_t kMaxWindow = 256;

struct Sums {
  double sum = 0, squares = 0;
};

// Adds sum(v - shift) and sum((v - shift)^2) over n values, in double. The shift (a value of the
// channel) keeps the variance from cancelling when the mean is large against the spread.
void add_row_sums(const float* row, int64_t n, double shift, Sums& out);

// One row of windows: kh rows of `width` floats from `top`, `outputs` windows of kw columns. For
// each window, its largest value (smallest unless `largest`) and the position of the first such
// value in row-major order, as max_pool2d picks on ties.
void pool_window_row(const float* top, int64_t width, int64_t kh, int64_t kw, int64_t outputs,
                     bool largest, float* value, uint8_t* position);

struct GradientSums {
  double grad = 0, grad_centred = 0;  // sum(g), sum(g * (chosen - mean))
};

// Adds the sums of n pooled gradients g and their chosen values.
void add_gradient_sums(const float* g, const float* chosen, int64_t n, float mean,
                       GradientSums& out);

// Row i (< kh) of a row of windows' input gradient: out[w] = a * x[w] + b for each of the n
// values, plus k * g[wo] where window wo chose this value (position[wo] == i * kw + w % kw).
// outputs = 0 for rows and columns under no window.
void input_gradient_row(const float* x, float* out, int64_t n, int64_t i, int64_t kw,
                        int64_t outputs, const float* g, const uint8_t* position, float k, float a,
                        float b);

}  // namespace genre::bn_pool
