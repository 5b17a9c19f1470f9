/* The native kernels of orthornn.nn (loaded through ctypes by orthornn.nn.kernels), each body
 * instantiated for double (suffix _f64) and float (_f32):
 *
 * rum0_step.h  the lambda = 0 RUM step between the GEMMs, forward and adjoint
 *              (orthornn.nn.rum.lambda0._Sequence0): five row dot products, the matrix-free Rotation, ReLU,
 *              gate and time normalisation.  The scalars saved per row are
 *              sc = (p, s, 1/|tau|, c, gamma, delta, r), as in _seq0_step / _seq0_step_backward
 *              in orthornn/nn/rum/lambda0.py, the reference implementation (and the CUDA / no-compiler path).
 * rum1_step.h  the whole lambda = 1 RUM sequence, forward and adjoint (orthornn.nn.rum.native._Sequence1):
 *              R_t = R_{t-1} Rotation(eps_t, tau_t) as a rank-2 update and the backward that
 *              rebuilds R_{t-1} = R_t Rotation^T instead of storing it; the equations of the step
 *              path (memory_step, fused_step1, _FusedStep1Recompute), the reference.
 * spectral_adjoint.h  the Daleckii-Krein adjoint of X -> X^lambda in a real plane basis, in place, and
 *              the lambda gradient (the backward step of orthornn.nn.rum.spectral; the reference is
 *              orthornn.nn.functional.lie._plane_adjoint).
 * spectral_step.h  the O(N^2) middle of that backward step (products with Q' and K, the frame's
 *              gradients, the rank-3 update to dD), per batch element in cache.
 * fold_wy.h    the rank-2 (compact WY) reflector products of the folded angle-0 block of the spectral
 *              memory (orthornn.nn.rum.deflation, whose torch form is the reference), in cache.
 * spectral_backward.h  one backward step of that memory fused per batch element: spectral_step.h, the
 *              fold's conjugation and basis undo, spectral_adjoint.h, with K and Q' in cache.
 * sigmoid.h    a sigmoid without libm calls, so that the loops calling it vectorise.
 * spectral_update.h  (double only, included once) the eigen-update of a block-diagonal rotation by
 *              a plane rotation, A = Bd(d) G = W Bd(phi) W^T, by a 2x2 secular equation
 *              (spectral_update() in orthornn.nn.kernels; the fractional-lambda RUM memory).
 *
 * Plain C99, no Python or torch headers.  Strides are in elements; the last dimension of every
 * array is contiguous.
 */
#include <stdint.h>
#include <tgmath.h> /* sqrt of the argument's type (float or double) */

#include "sigmoid.h"

#define NSC 7 /* scalars saved per row by the lambda = 0 step */

#define T double
#define NAME(f) f##_f64
#include "rum0_step.h"
#include "rum1_step.h"
#include "spectral_adjoint.h"
#include "spectral_step.h"
#include "fold_wy.h"
#include "spectral_backward.h"
#undef T
#undef NAME

#define T float
#define NAME(f) f##_f32
#include "rum0_step.h"
#include "rum1_step.h"
#include "spectral_adjoint.h"
#include "spectral_step.h"
#include "fold_wy.h"
#include "spectral_backward.h"
#undef T
#undef NAME

#include "spectral_update.h"
