// Front-to-back blending of one 16x16 tile: the hot loop of the rtgs2 CPU rasterizer, compiled to wasm SIMD.
// The rules are the reference 3DGS forward pass (FORMATS.md section 2), checked against the JS brute-force
// renderer in src/render/reference.ts: alpha = min(0.99, o * e^power), skip alpha < 1/255, a pixel stops
// (without adding the Gaussian) once T * (1 - alpha) < 1e-4; colour, depth and C feature channels share the
// weights alpha * T.
//
// Build: npm run build:wasm (needs clang and lld; the .wasm is committed so users need neither).
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define TILE 16
#define REC 13
enum { R_X, R_Y, R_CA, R_CB, R_CC, R_OPACITY, R_RED, R_GREEN, R_BLUE, R_DEPTH, R_EX, R_EY, R_QMAX };

static const double MIN_ALPHA = 1.0 / 255.0;
static const double MAX_ALPHA = 0.99;
static const double MIN_TRANSMITTANCE = 1e-4;

// e^x for x <= 0, relative error below 3e-9: range reduction by ln 2 and a degree-8 Taylor polynomial on
// |r| <= ln2/2. (No libm in this module.) That is far below the float32 the reference kernel works in, so the
// alpha >= 1/255 and T < 1e-4 decisions agree with the JS reference renderer.
static inline double exp_nonpositive(double x) {
  if (x < -700.0) return 0.0;
  double k = __builtin_nearbyint(x * 1.4426950408889634);
  double r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
  double p = 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  union { double d; int64_t i; } scale;
  scale.i = (int64_t)(k + 1023.0) << 52;
  return p * scale.d;
}

static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int imin(int a, int b) { return a < b ? a : b; }

// The tile loop, shared by the colour pass and the per-Gaussian weight pass (WEIGHTS = 0 / 1, constant at each
// call site so each export is a specialization with no per-blend branch on the mode). Both passes take exactly the
// same alpha, T, ordering and termination decisions.
//
// Colour pass: blends into rgbd [256 x 4] (r, g, b, depth), trans [256], feat [256 x C].
// Weight pass: for the i-th entry of the tile list (global position k = tileStart[tile] + i), accumulates into
// inst[k * (K + 1) ...] the total weight sum(alpha * T) in slot 0 and, in slots 1..K, sum(alpha * T * E[pixel, c]),
// where E is the dense evidence image ev [H x W x K] or, when ev is null, the one-hot of labels [H x W] (a label
// >= K, e.g. 65535, adds weight only). Each list entry belongs to one tile, so threads never write the same slot.
static inline __attribute__((always_inline))
int blend_core(const int WEIGHTS, int tile, int gridW, int width, int height,
               const uint32_t* tileStart, const uint32_t* list, const float* records,
               const float* gf, int C,
               double* T, float* rgbd, float* trans, float* feat,
               const float* ev, const uint16_t* labels, int K, float* inst) {
  const int tx0 = (tile % gridW) * TILE, ty0 = (tile / gridW) * TILE;
  const int tx1 = imin(tx0 + TILE, width), ty1 = imin(ty0 + TILE, height);
  int32_t rowMask[TILE];
  double acc[WEIGHTS ? 1 : TILE * TILE * 4];
  for (int i = 0; i < TILE * TILE; i++) T[i] = 1.0;
  if (!WEIGHTS) {
    for (int i = 0; i < TILE * TILE * 4; i++) acc[i] = 0.0;
    for (int i = 0; i < TILE * TILE * C; i++) feat[i] = 0.0f;
  }
  const int S = K + 1;
  if (WEIGHTS) {
    float* z0 = inst + (size_t)tileStart[tile] * S;
    const size_t n = (size_t)(tileStart[tile + 1] - tileStart[tile]) * S;
    for (size_t i = 0; i < n; i++) z0[i] = 0.0f;
  }
  const int32_t fullRow = (1 << (tx1 - tx0)) - 1;
  for (int i = 0; i < TILE; i++) rowMask[i] = fullRow;
  int active = (tx1 - tx0) * (ty1 - ty0);
  int blends = 0;
  const int C4 = C & ~3;
  const int K4 = K & ~3;

  const uint32_t end = tileStart[tile + 1];
  for (uint32_t k = tileStart[tile]; k < end && active > 0; k++) {
    const uint32_t g = list[k];
    const float* rec = records + (size_t)g * REC;
    const double mx = rec[R_X], my = rec[R_Y], ex = rec[R_EX], ey = rec[R_EY];
    const int rowLo = imax(ty0, (int)__builtin_ceil(my - ey - 0.5));
    const int rowHi = imin(ty1 - 1, (int)__builtin_floor(my + ey - 0.5));
    const int colLo = imax(tx0, (int)__builtin_ceil(mx - ex - 0.5));
    const int colHi = imin(tx1 - 1, (int)__builtin_floor(mx + ex - 0.5));
    if (rowLo > rowHi || colLo > colHi) continue;
    const int32_t colMask = (int32_t)((((uint32_t)1 << (colHi - colLo + 1)) - 1) << (colLo - tx0));
    const double A = rec[R_CA], B = rec[R_CB], Cc = rec[R_CC], qmax = rec[R_QMAX];
    // alpha < 1/255 exactly when power < -qmax/2; the slack leaves the final call to the alpha test below.
    const double minPower = -0.5 * qmax - 1e-6;
    const double op = rec[R_OPACITY];
    const double cr = rec[R_RED], cg = rec[R_GREEN], cb = rec[R_BLUE], z = rec[R_DEPTH];
    const double disc0 = B * B - A * Cc;
    const double invA = 1.0 / A;
    const float* gfg = gf + (size_t)g * C;
    float* slot = WEIGHTS ? inst + (size_t)k * S : 0;
    for (int py = rowLo; py <= rowHi; py++) {
      const int ly = py - ty0;
      if ((rowMask[ly] & colMask) == 0) continue;
      const double dy = my - (py + 0.5);
      // This row's span of the ellipse A dx^2 + 2B dy dx + C dy^2 <= qmax, widened by 1e-3 px so rounding can
      // never drop a pixel the reference would blend (the alpha test below still makes every decision).
      const double disc = dy * dy * disc0 + A * qmax;
      if (disc < 0) continue;
      const double sq = __builtin_sqrt(disc);
      const int lo = imax(colLo, (int)__builtin_ceil(mx - (sq - B * dy) * invA - 0.501));
      const int hi = imin(colHi, (int)__builtin_floor(mx + (sq + B * dy) * invA - 0.499));
      const double qy = -0.5 * Cc * dy * dy, by = B * dy;
      for (int px = lo; px <= hi; px++) {
        const double dx = mx - (px + 0.5);
        const double power = qy - 0.5 * A * dx * dx - by * dx;
        if (power < minPower) continue;
        const int local = ly * TILE + (px - tx0);
        const double t = T[local];
        if (t < 0) continue;  // terminated: T holds -(final transmittance)
        double alpha = op * exp_nonpositive(power);
        if (alpha < MIN_ALPHA) continue;
        if (alpha > MAX_ALPHA) alpha = MAX_ALPHA;
        const double tNext = t * (1.0 - alpha);
        if (tNext < MIN_TRANSMITTANCE) {
          T[local] = -t;
          rowMask[ly] &= ~(1 << (px - tx0));
          active--;
          continue;
        }
        blends++;
        const double w = alpha * t;
        if (WEIGHTS) {
          const size_t pix = (size_t)py * width + px;
          const float wf = (float)w;
          slot[0] += wf;
          if (ev) {
            const float* e = ev + pix * K;
            float* s = slot + 1;
            const v128_t vw = wasm_f32x4_splat(wf);
            int c = 0;
            for (; c < K4; c += 4)
              wasm_v128_store(s + c, wasm_f32x4_add(wasm_v128_load(s + c), wasm_f32x4_mul(vw, wasm_v128_load(e + c))));
            for (; c < K; c++) s[c] += wf * e[c];
          } else {
            const int l = labels[pix];
            if (l < K) slot[1 + l] += wf;
          }
        } else {
          double* a = acc + local * 4;
          a[0] += w * cr;
          a[1] += w * cg;
          a[2] += w * cb;
          a[3] += w * z;
          if (C > 0) {
            float* f = feat + local * C;
            const v128_t vw = wasm_f32x4_splat((float)w);
            int c = 0;
            for (; c < C4; c += 4)
              wasm_v128_store(f + c, wasm_f32x4_add(wasm_v128_load(f + c), wasm_f32x4_mul(vw, wasm_v128_load(gfg + c))));
            for (; c < C; c++) f[c] += (float)w * gfg[c];
          }
        }
        T[local] = tNext;
      }
    }
  }
  if (!WEIGHTS) {
    for (int i = 0; i < TILE * TILE; i++) {
      rgbd[i * 4] = (float)acc[i * 4];
      rgbd[i * 4 + 1] = (float)acc[i * 4 + 1];
      rgbd[i * 4 + 2] = (float)acc[i * 4 + 2];
      rgbd[i * 4 + 3] = (float)acc[i * 4 + 3];
      trans[i] = (float)(T[i] < 0 ? -T[i] : T[i]);
    }
  }
  return blends;
}

// Blends tile `tile` into the tile-local outputs: rgbd [256 x 4] (r, g, b, depth), trans [256], feat [256 x C].
// Scratch T is [256] doubles. Returns the number of splat-pixel blends.
__attribute__((export_name("blend_tile")))
int blend_tile(int tile, int gridW, int width, int height,
               const uint32_t* tileStart, const uint32_t* list, const float* records,
               const float* gf, int C,
               double* T, float* rgbd, float* trans, float* feat) {
  return blend_core(0, tile, gridW, width, height, tileStart, list, records, gf, C, T, rgbd, trans, feat, 0, 0, 0, 0);
}

// The weight pass of tile `tile` (see blend_core): per tile-list entry, sum(alpha * T) and the evidence it
// gathers, into inst. ev = 0 selects the hard-label input. Scratch T is [256] doubles. Returns the blends.
__attribute__((export_name("blend_tile_weights")))
int blend_tile_weights(int tile, int gridW, int width, int height,
                       const uint32_t* tileStart, const uint32_t* list, const float* records,
                       double* T, const float* ev, const uint16_t* labels, int K, float* inst) {
  return blend_core(1, tile, gridW, width, height, tileStart, list, records, 0, 0, T, 0, 0, 0, ev, labels, K, inst);
}
