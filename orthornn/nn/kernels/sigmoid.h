/* sigmoid(x) = 1 / (1 + exp(-x)) without a libm call, so that loops calling it vectorise.
 *
 * exp(y) = 2^k exp(r) with k = round(y / ln 2) and r = y - k ln 2 (Cody-Waite: ln 2 in two parts),
 * |r| <= ln(2)/2; exp(r) by its Taylor polynomial (degree 13 for double, 8 for float: truncation
 * below 1e-17 and 1e-9 relative); 2^k built in the exponent field from the bits of the rounding
 * constant 1.5 * 2^52 (2^23 for float), whose low mantissa bits hold k after the addition.
 * y is clamped so that 2^k stays a normal number: sigmoid(x) is then exactly 1 for x >= 708 (88)
 * and at most 2e-308 (1e-38) too large for x < -709 (-88), where the true value is below that. */
#include <stdint.h>
#include <string.h>

static inline double sigmoid_f64(double x)
{
    double y = -x;
    y = y < -708.0 ? -708.0 : y;
    y = y > 709.0 ? 709.0 : y;
    const double shift = 0x1.8p52;
    double t = y * 0x1.71547652b82fep0 + shift; /* y / ln 2, rounded to an integer in the low bits */
    double k = t - shift;
    double r = (y - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33; /* ln 2 = hi + lo */
    double p = 1.0 / 6227020800.0;                                          /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52; /* 2^k: k + 1023 in the exponent field */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return 1.0 / (1.0 + p * scale);
}

static inline float sigmoid_f32(float x)
{
    float y = -x;
    y = y < -87.0f ? -87.0f : y;
    y = y > 88.0f ? 88.0f : y;
    const float shift = 0x1.8p23f;
    float t = y * 0x1.715476p0f + shift;
    float k = t - shift;
    float r = (y - k * 0x1.62e4p-1f) - k * 0x1.7f7d1cp-20f; /* ln 2 = hi + lo */
    float p = 1.0f / 40320.0f;
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return 1.0f / (1.0f + p * scale);
}
