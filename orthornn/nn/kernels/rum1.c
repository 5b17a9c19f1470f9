/* The lambda = 1 RUM over a whole sequence, forward and adjoint (orthornn.nn.rum._Sequence1):
 * R_t = R_{t-1} Rotation(eps_t, tau_t) as a rank-2 update, h_t from R_t h_{t-1}, and the backward
 * that rebuilds R_{t-1} = R_t Rotation^T instead of storing it.  The equations are those of the
 * step path in orthornn/nn/rum.py (memory_step, fused_step1, _FusedStep1Recompute), which stays
 * the reference implementation (and the CUDA / no-compiler path).
 *
 * Plain C99, no Python or torch headers: loaded through ctypes by orthornn.nn.kernels.
 */
#include <stdint.h>
#include <tgmath.h> /* sqrt of the argument's type (float or double) */

#include "sigmoid.h"

#define T double
#define NAME(f) f##_f64
#include "rum1_step.h"
#undef T
#undef NAME

#define T float
#define NAME(f) f##_f32
#include "rum1_step.h"
#undef T
#undef NAME
