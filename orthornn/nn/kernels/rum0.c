/* Fused per-step kernels of the lambda = 0 RUM sequence (orthornn.nn.rum._Sequence0).
 *
 * One call does, for every row (batch element) of one time step, the work between the GEMMs:
 * the five row dot products, the matrix-free Rotation, ReLU, gate and time normalisation
 * (forward), and their adjoint (backward).  The equations, and the order of the saved scalars
 * sc = (p, s, 1/|tau|, c, gamma, delta, r), are those of _seq0_step / _seq0_step_backward in
 * orthornn/nn/rum.py, which stay the reference implementation (and the CUDA / no-compiler path).
 *
 * Plain C99, no Python or torch headers: loaded through ctypes by orthornn.nn.kernels.
 * Strides are in elements; the last dimension of every array is contiguous; output rows do
 * not overlap input rows (restrict).
 */
#include <stdint.h>
#include <tgmath.h> /* sqrt of the argument's type (float or double) */

#include "sigmoid.h"

#define NSC 7

#define T double
#define NAME(f) f##_f64
#include "rum0_step.h"
#undef T
#undef NAME

#define T float
#define NAME(f) f##_f32
#include "rum0_step.h"
#undef T
#undef NAME
