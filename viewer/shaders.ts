/**
 * The splat shaders, WGSL and GLSL ES 3.00, with the CPU rasterizer's math (src/render/project.ts, FORMATS.md §2):
 * Σ = R·diag(s)²·Rᵀ, Jacobian at the 1.3×-frustum-clamped point, +0.3 dilation, conic, 3σ radius from the larger
 * eigenvalue, α ≥ 1/255 ellipse extents, SH colour clamped at 0, α = min(0.99, o·e^power) dropped below 1/255.
 *
 * Each Gaussian is one quad on the axes of its α ≥ 1/255 ellipse (+1 px), and fragments outside its 16×16 tile
 * rectangle ∩ the ellipse's box are discarded, so it touches exactly the pixels the tile renderer evaluates it at. Quads are drawn front to back with
 * (ONE_MINUS_DST_ALPHA, ONE) blending of premultiplied colour into a float target, so the target holds
 * C = Σ c·α·T and 1 − T, and a second pass writes C + T·background. The CPU's early stop at T < 1e-4 is the
 * only step left out (it changes a pixel by at most 1e-4 of a colour).
 */

const SH_C = `
const C0 = 0.28209479177387814;
const C1 = 0.4886025119029199;
`;

/** The uniform block every WGSL pass shares (the renderers fill it in one layout). */
const WGSL_UNIFORMS = /* wgsl */ `
struct U {
  view0: vec4f, view1: vec4f, view2: vec4f,
  intr: vec4f,
  size: vec4f,
  campos: vec4f,
  bg: vec4f,
  depth: vec4f,
};
@group(0) @binding(0) var<uniform> u: U;
`;

/**
 * What the WGSL draw passes share: a Gaussian's quad corner from its projection record (5 vec4f per Gaussian in
 * `rec`), and its α at a fragment (0 outside its tile rectangle ∩ ellipse box or where power > 0).
 */
const WGSL_SPLAT_COMMON = /* wgsl */ `
struct Corner { pos: vec4f, off: vec2f, ii: u32, visible: bool };

// One non-instanced triangle list, 6 vertices per Gaussian (SwiftShader runs instanced draws far slower).
fn splatCorner(vx: u32) -> Corner {
  var c: Corner;
  c.ii = vx / 6u;
  let vi = array<u32, 6>(0u, 1u, 2u, 1u, 3u, 2u)[vx % 6u];
  let r0 = rec[c.ii * 5u];
  c.visible = r0.w != 0.0;
  c.pos = vec4f(0.0, 0.0, 2.0, 1.0);
  c.off = vec2f(0.0);
  if (!c.visible) { return c; }
  let axes = rec[c.ii * 5u + 1u];
  let sx = select(-1.0, 1.0, (vi & 1u) != 0u);
  let sy = select(-1.0, 1.0, (vi & 2u) != 0u);
  c.off = axes.xy * sx + axes.zw * sy;
  let corner = r0.xy + c.off;
  c.pos = vec4f(corner.x / u.size.x * 2.0 - 1.0, 1.0 - corner.y / u.size.y * 2.0, 0.0, 1.0);
  return c;
}

fn splatAlpha(d: vec2f, conic: vec3f, rect: vec4f, opacity: f32) -> f32 {
  if (d.x < rect.x || d.y < rect.y || d.x >= rect.z || d.y >= rect.w) { return 0.0; }
  let power = -0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) - conic.y * d.x * d.y;
  if (power > 0.0) { return 0.0; }
  return min(0.99, opacity * exp(power));
}
`;

/** The GLSL twin of splatAlpha (0 outside the rectangle or where power > 0). */
const GLSL_SPLAT_ALPHA = /* glsl */ `
float splatAlpha(vec2 d, vec3 conic, vec4 rect, float opacity) {
  if (d.x < rect.x || d.y < rect.y || d.x >= rect.z || d.y >= rect.w) return 0.0;
  float power = -0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) - conic.y * d.x * d.y;
  if (power > 0.0) return 0.0;
  return min(0.99, opacity * exp(power));
}
`;

export const WGSL_PROJECT = /* wgsl */ `
${WGSL_UNIFORMS}@group(0) @binding(1) var<storage, read> posOp: array<vec4f>;
@group(0) @binding(2) var<storage, read> scl: array<vec4f>;
@group(0) @binding(3) var<storage, read> rot: array<vec4f>;
@group(0) @binding(4) var<storage, read> sh: array<vec4f>;
@group(0) @binding(5) var<storage, read> alt: array<vec4f>;
@group(0) @binding(6) var<storage, read> order: array<u32>;
/** Per sorted instance, 5 vec4: (mean, opacity, valid), quad half-axes, conic, (colour, id bits), tile∩box rect − mean. */
@group(0) @binding(7) var<storage, read_write> rec: array<vec4f>;
${SH_C}
fn shc(t: ptr<function, array<vec4f, 12>>, k: u32) -> vec3f {
  let f = k * 3u;
  return vec3f((*t)[f / 4u][f % 4u], (*t)[(f + 1u) / 4u][(f + 1u) % 4u], (*t)[(f + 2u) / 4u][(f + 2u) % 4u]);
}

fn shColor(id: u32, dir: vec3f) -> vec3f {
  // The Gaussian's padded SH block as whole vec4 loads (12 at degree 3), then constant-index picks.
  let n4 = u32(u.bg.w) / 4u;
  let base4 = id * n4;
  var t: array<vec4f, 12>;
  for (var k = 0u; k < 12u; k++) {
    if (k < n4) { t[k] = sh[base4 + k]; } else { t[k] = vec4f(0.0); }
  }
  let deg = u32(u.size.w);
  var c = C0 * shc(&t, 0u) + vec3f(0.5);
  if (deg >= 1u) {
    let x = dir.x; let y = dir.y; let z = dir.z;
    c += -C1 * y * shc(&t, 1u) + C1 * z * shc(&t, 2u) - C1 * x * shc(&t, 3u);
    if (deg >= 2u) {
      let xx = x * x; let yy = y * y; let zz = z * z; let xy = x * y; let yz = y * z; let xz = x * z;
      c += 1.0925484305920792 * xy * shc(&t, 4u) - 1.0925484305920792 * yz * shc(&t, 5u)
         + 0.31539156525252005 * (2.0 * zz - xx - yy) * shc(&t, 6u) - 1.0925484305920792 * xz * shc(&t, 7u)
         + 0.5462742152960396 * (xx - yy) * shc(&t, 8u);
      if (deg >= 3u) {
        c += -0.5900435899266435 * y * (3.0 * xx - yy) * shc(&t, 9u)
           + 2.890611442640554 * xy * z * shc(&t, 10u)
           - 0.4570457994644658 * y * (4.0 * zz - xx - yy) * shc(&t, 11u)
           + 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * shc(&t, 12u)
           - 0.4570457994644658 * x * (4.0 * zz - xx - yy) * shc(&t, 13u)
           + 1.445305721320277 * z * (xx - yy) * shc(&t, 14u)
           - 0.5900435899266435 * x * (xx - 3.0 * yy) * shc(&t, 15u);
      }
    }
  }
  return max(c, vec3f(0.0));
}

@compute @workgroup_size(64) fn project(@builtin(global_invocation_id) g: vec3u) {
  let ii = g.x + g.y * (65535u * 64u);
  if (ii >= u32(u.depth.z)) { return; }
  rec[ii * 5u] = vec4f(0.0);
  let id = order[ii];
  let po = posOp[id];
  let p = po.xyz;
  let W0 = u.view0.xyz; let W1 = u.view1.xyz; let W2 = u.view2.xyz;
  let t = vec3f(dot(W0, p) + u.view0.w, dot(W1, p) + u.view1.w, dot(W2, p) + u.view2.w);
  if (!(t.z > u.size.z)) { return; }
  let q = rot[id];
  let qw = q.x; let qx = q.y; let qy = q.z; let qz = q.w;
  let s = scl[id].xyz;
  let r0 = vec3f((1.0 - 2.0 * (qy * qy + qz * qz)) * s.x, 2.0 * (qx * qy - qw * qz) * s.y, 2.0 * (qx * qz + qw * qy) * s.z);
  let r1 = vec3f(2.0 * (qx * qy + qw * qz) * s.x, (1.0 - 2.0 * (qx * qx + qz * qz)) * s.y, 2.0 * (qy * qz - qw * qx) * s.z);
  let r2 = vec3f(2.0 * (qx * qz - qw * qy) * s.x, 2.0 * (qy * qz + qw * qx) * s.y, (1.0 - 2.0 * (qx * qx + qy * qy)) * s.z);
  let S0 = vec3f(dot(r0, r0), dot(r0, r1), dot(r0, r2));
  let S1 = vec3f(S0.y, dot(r1, r1), dot(r1, r2));
  let S2 = vec3f(S0.z, S1.z, dot(r2, r2));
  let fx = u.intr.x; let fy = u.intr.y; let cx = u.intr.z; let cy = u.intr.w;
  let Wd = u.size.x; let Hd = u.size.y;
  let tanX = 0.5 * Wd / fx; let tanY = 0.5 * Hd / fy;
  let iz = 1.0 / t.z;
  let xc = min((Wd - cx) / fx + 0.3 * tanX, max(-(cx / fx + 0.3 * tanX), t.x * iz)) * t.z;
  let yc = min((Hd - cy) / fy + 0.3 * tanY, max(-(cy / fy + 0.3 * tanY), t.y * iz)) * t.z;
  let t0 = fx * iz * W0 - fx * xc * iz * iz * W2;
  let t1 = fy * iz * W1 - fy * yc * iz * iz * W2;
  let Su = vec3f(dot(S0, t0), dot(S1, t0), dot(S2, t0));
  let Sw = vec3f(dot(S0, t1), dot(S1, t1), dot(S2, t1));
  let a = dot(t0, Su) + 0.3;
  let b = dot(t1, Su);
  let c = dot(t1, Sw) + 0.3;
  let det = a * c - b * b;
  if (!(det > 0.0)) { return; }
  let mid = 0.5 * (a + c);
  let lambda = mid + sqrt(max(0.1, mid * mid - det));
  let radius = ceil(3.0 * sqrt(lambda));
  let m = vec2f(fx * t.x * iz + cx, fy * t.y * iz + cy);
  let opacity = po.w;
  let qmax = 2.0 * log(255.0 * opacity);
  if (!(qmax >= 0.0)) { return; }
  let e = vec2f(sqrt(qmax * a) + 1.0, sqrt(qmax * c) + 1.0);
  let grid = ceil(vec2f(Wd, Hd) / 16.0);
  let rv = vec2f(radius);
  let lo = clamp(max(floor((m - rv) / 16.0), floor((m - e) / 16.0)), vec2f(0.0), grid);
  let hi = clamp(min(ceil((m + rv) / 16.0), ceil((m + e) / 16.0)), vec2f(0.0), grid);
  if (lo.x >= hi.x || lo.y >= hi.y) { return; }
  let blo = max(lo * 16.0, m - e);
  let bhi = min(hi * 16.0, m + e);
  if (blo.x >= bhi.x || blo.y >= bhi.y) { return; }
  // Oriented quad on the α ≥ 1/255 ellipse's axes (+1 px), clipped to the tile rectangle in the fragment stage.
  let disc = sqrt(max(0.0, mid * mid - det));
  let l1 = mid + disc;
  let l2 = det / l1;
  let va = vec2f(b, l1 - a);
  let vb = vec2f(l1 - c, b);
  var v1 = vec2f(1.0, 0.0);
  if (dot(va, va) >= dot(vb, vb) && dot(va, va) > 0.0) { v1 = normalize(va); } else if (dot(vb, vb) > 0.0) { v1 = normalize(vb); }
  let v2 = vec2f(-v1.y, v1.x);
  rec[ii * 5u + 1u] = vec4f(v1 * (sqrt(qmax * l1) + 1.0), v2 * (sqrt(qmax * l2) + 1.0));
  rec[ii * 5u + 2u] = vec4f(c / det, -b / det, a / det, 0.0);
  rec[ii * 5u + 4u] = vec4f(blo - m, bhi - m);
  let src = u32(u.campos.w);
  var col: vec3f;
  if (src == 0u) {
    col = shColor(id, normalize(p - u.campos.xyz));
  } else if (src == 1u) {
    col = vec3f(t.z);
  } else {
    col = alt[id].xyz;
  }
  rec[ii * 5u + 3u] = vec4f(col, bitcast<f32>(id));
  rec[ii * 5u] = vec4f(m, opacity, 1.0);
}

`;

export const WGSL_DRAW = /* wgsl */ `
${WGSL_UNIFORMS}@group(0) @binding(1) var<storage, read> rec: array<vec4f>;

${WGSL_SPLAT_COMMON}
struct VOut {
  @builtin(position) pos: vec4f,
  @location(0) d: vec2f,
  @location(1) @interpolate(flat) conic: vec3f,
  @location(2) @interpolate(flat) color: vec4f,
  @location(3) @interpolate(flat) rect: vec4f,
};

@vertex fn vs(@builtin(vertex_index) vx: u32) -> VOut {
  var o: VOut;
  let c = splatCorner(vx);
  o.pos = c.pos;
  o.d = c.off;
  o.conic = vec3f(0.0); o.color = vec4f(0.0); o.rect = vec4f(0.0);
  if (!c.visible) { return o; }
  let r = c.ii * 5u;
  o.conic = rec[r + 2u].xyz;
  o.color = vec4f(rec[r + 3u].xyz, rec[r].z);
  o.rect = rec[r + 4u];
  return o;
}

@fragment fn fs(i: VOut) -> @location(0) vec4f {
  let alpha = splatAlpha(i.d, i.conic, i.rect, i.color.w);
  if (alpha < 1.0 / 255.0) { discard; }
  return vec4f(i.color.xyz * alpha, alpha);
}
`;

export const WGSL_COMPOSITE = /* wgsl */ `
${WGSL_UNIFORMS}@group(0) @binding(1) var acc: texture_2d<f32>;

@vertex fn vs(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4f {
  let x = f32(vi & 1u) * 4.0 - 1.0;
  let y = f32((vi >> 1u) & 1u) * 4.0 - 1.0;
  return vec4f(x, y, 0.0, 1.0);
}

fn ramp(v: f32) -> vec3f {
  let t = clamp(v, 0.0, 1.0);
  return clamp(vec3f(1.5 - abs(4.0 * t - 3.0), 1.5 - abs(4.0 * t - 2.0), 1.5 - abs(4.0 * t - 1.0)), vec3f(0.0), vec3f(1.0));
}

@fragment fn fs(@builtin(position) fc: vec4f) -> @location(0) vec4f {
  let a = textureLoad(acc, vec2i(fc.xy), 0);
  if (u32(u.campos.w) == 1u) {
    if (a.w < 0.05) { return vec4f(0.0, 0.0, 0.0, 1.0); }
    let z = a.x / a.w;
    return vec4f(ramp((z - u.depth.x) / (u.depth.y - u.depth.x)), 1.0);
  }
  return vec4f(a.xyz + (1.0 - a.w) * u.bg.xyz, 1.0);
}
`;

/** GLSL ES 3.00 twin of WGSL_SPLAT; the data lives in RGBA32F textures 2048 texels wide. */
export const GLSL_SPLAT_VS = /* glsl */ `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp usampler2D;
uniform vec4 uView0, uView1, uView2, uIntr, uSize, uCampos, uBg, uDepth;
uniform sampler2D tPosOp, tScale, tRot, tSh, tAlt;
uniform highp usampler2D tOrder;
out vec2 vD;
flat out vec3 vConic;
flat out vec4 vColor;
flat out vec4 vRect;
const float C0 = 0.28209479177387814;
const float C1 = 0.4886025119029199;
vec4 fetch(sampler2D t, int i) { return texelFetch(t, ivec2(i & 2047, i >> 11), 0); }
vec3 shc(vec4 t[12], int k) {
  int f = k * 3;
  return vec3(t[f >> 2][f & 3], t[(f + 1) >> 2][(f + 1) & 3], t[(f + 2) >> 2][(f + 2) & 3]);
}
vec3 shColor(int id, vec3 dir) {
  int n4 = int(uBg.w) / 4;
  int base4 = id * n4;
  vec4 t[12];
  for (int k = 0; k < 12; k++) t[k] = k < n4 ? fetch(tSh, base4 + k) : vec4(0.0);
  int deg = int(uSize.w);
  vec3 c = C0 * shc(t, 0) + vec3(0.5);
  if (deg >= 1) {
    float x = dir.x, y = dir.y, z = dir.z;
    c += -C1 * y * shc(t, 1) + C1 * z * shc(t, 2) - C1 * x * shc(t, 3);
    if (deg >= 2) {
      float xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
      c += 1.0925484305920792 * xy * shc(t, 4) - 1.0925484305920792 * yz * shc(t, 5)
         + 0.31539156525252005 * (2.0 * zz - xx - yy) * shc(t, 6) - 1.0925484305920792 * xz * shc(t, 7)
         + 0.5462742152960396 * (xx - yy) * shc(t, 8);
      if (deg >= 3) {
        c += -0.5900435899266435 * y * (3.0 * xx - yy) * shc(t, 9)
           + 2.890611442640554 * xy * z * shc(t, 10)
           - 0.4570457994644658 * y * (4.0 * zz - xx - yy) * shc(t, 11)
           + 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * shc(t, 12)
           - 0.4570457994644658 * x * (4.0 * zz - xx - yy) * shc(t, 13)
           + 1.445305721320277 * z * (xx - yy) * shc(t, 14)
           - 0.5900435899266435 * x * (xx - 3.0 * yy) * shc(t, 15);
      }
    }
  }
  return max(c, vec3(0.0));
}
void main() {
  gl_Position = vec4(0.0, 0.0, 2.0, 1.0);
  vD = vec2(0.0); vConic = vec3(0.0); vColor = vec4(0.0); vRect = vec4(0.0);
  // One non-instanced triangle list, 6 vertices per Gaussian (SwiftShader runs instanced draws far slower).
  int ii = gl_VertexID / 6;
  int vi = int[6](0, 1, 2, 1, 3, 2)[gl_VertexID % 6];
  int id = int(texelFetch(tOrder, ivec2(ii & 2047, ii >> 11), 0).r);
  vec4 po = fetch(tPosOp, id);
  vec3 p = po.xyz;
  vec3 W0 = uView0.xyz, W1 = uView1.xyz, W2 = uView2.xyz;
  vec3 t = vec3(dot(W0, p) + uView0.w, dot(W1, p) + uView1.w, dot(W2, p) + uView2.w);
  if (!(t.z > uSize.z)) return;
  vec4 q = fetch(tRot, id);
  float qw = q.x, qx = q.y, qy = q.z, qz = q.w;
  vec3 s = fetch(tScale, id).xyz;
  vec3 r0 = vec3((1.0 - 2.0 * (qy * qy + qz * qz)) * s.x, 2.0 * (qx * qy - qw * qz) * s.y, 2.0 * (qx * qz + qw * qy) * s.z);
  vec3 r1 = vec3(2.0 * (qx * qy + qw * qz) * s.x, (1.0 - 2.0 * (qx * qx + qz * qz)) * s.y, 2.0 * (qy * qz - qw * qx) * s.z);
  vec3 r2 = vec3(2.0 * (qx * qz - qw * qy) * s.x, 2.0 * (qy * qz + qw * qx) * s.y, (1.0 - 2.0 * (qx * qx + qy * qy)) * s.z);
  vec3 S0 = vec3(dot(r0, r0), dot(r0, r1), dot(r0, r2));
  vec3 S1 = vec3(S0.y, dot(r1, r1), dot(r1, r2));
  vec3 S2 = vec3(S0.z, S1.z, dot(r2, r2));
  float fx = uIntr.x, fy = uIntr.y, cx = uIntr.z, cy = uIntr.w;
  float Wd = uSize.x, Hd = uSize.y;
  float tanX = 0.5 * Wd / fx, tanY = 0.5 * Hd / fy;
  float iz = 1.0 / t.z;
  float xc = min((Wd - cx) / fx + 0.3 * tanX, max(-(cx / fx + 0.3 * tanX), t.x * iz)) * t.z;
  float yc = min((Hd - cy) / fy + 0.3 * tanY, max(-(cy / fy + 0.3 * tanY), t.y * iz)) * t.z;
  vec3 t0 = fx * iz * W0 - fx * xc * iz * iz * W2;
  vec3 t1 = fy * iz * W1 - fy * yc * iz * iz * W2;
  vec3 Su = vec3(dot(S0, t0), dot(S1, t0), dot(S2, t0));
  vec3 Sw = vec3(dot(S0, t1), dot(S1, t1), dot(S2, t1));
  float a = dot(t0, Su) + 0.3;
  float b = dot(t1, Su);
  float c = dot(t1, Sw) + 0.3;
  float det = a * c - b * b;
  if (!(det > 0.0)) return;
  float mid = 0.5 * (a + c);
  float lambda = mid + sqrt(max(0.1, mid * mid - det));
  float radius = ceil(3.0 * sqrt(lambda));
  vec2 m = vec2(fx * t.x * iz + cx, fy * t.y * iz + cy);
  float opacity = po.w;
  float qmax = 2.0 * log(255.0 * opacity);
  if (!(qmax >= 0.0)) return;
  vec2 e = vec2(sqrt(qmax * a) + 1.0, sqrt(qmax * c) + 1.0);
  vec2 grid = ceil(vec2(Wd, Hd) / 16.0);
  vec2 rv = vec2(radius);
  vec2 lo = clamp(max(floor((m - rv) / 16.0), floor((m - e) / 16.0)), vec2(0.0), grid);
  vec2 hi = clamp(min(ceil((m + rv) / 16.0), ceil((m + e) / 16.0)), vec2(0.0), grid);
  if (lo.x >= hi.x || lo.y >= hi.y) return;
  vec2 blo = max(lo * 16.0, m - e);
  vec2 bhi = min(hi * 16.0, m + e);
  if (blo.x >= bhi.x || blo.y >= bhi.y) return;
  float disc = sqrt(max(0.0, mid * mid - det));
  float l1 = mid + disc;
  float l2 = det / l1;
  vec2 va = vec2(b, l1 - a);
  vec2 vb = vec2(l1 - c, b);
  vec2 v1 = vec2(1.0, 0.0);
  if (dot(va, va) >= dot(vb, vb) && dot(va, va) > 0.0) v1 = normalize(va); else if (dot(vb, vb) > 0.0) v1 = normalize(vb);
  vec2 v2 = vec2(-v1.y, v1.x);
  float sx = (vi & 1) != 0 ? 1.0 : -1.0;
  float sy = (vi & 2) != 0 ? 1.0 : -1.0;
  vec2 off = v1 * ((sqrt(qmax * l1) + 1.0) * sx) + v2 * ((sqrt(qmax * l2) + 1.0) * sy);
  vec2 corner = m + off;
  gl_Position = vec4(corner.x / Wd * 2.0 - 1.0, 1.0 - corner.y / Hd * 2.0, 0.0, 1.0);
  vD = off;
  vRect = vec4(blo - m, bhi - m);
  vConic = vec3(c / det, -b / det, a / det);
  int src = int(uCampos.w);
  vec3 col;
  if (src == 0) col = shColor(id, normalize(p - uCampos.xyz));
  else if (src == 1) col = vec3(t.z);
  else col = fetch(tAlt, id).xyz;
  vColor = vec4(col, opacity);
}
`;

export const GLSL_SPLAT_FS = /* glsl */ `#version 300 es
precision highp float;
in vec2 vD;
flat in vec3 vConic;
flat in vec4 vColor;
flat in vec4 vRect;
out vec4 outColor;
${GLSL_SPLAT_ALPHA}
void main() {
  float alpha = splatAlpha(vD, vConic, vRect, vColor.w);
  if (alpha < 1.0 / 255.0) discard;
  outColor = vec4(vColor.xyz * alpha, alpha);
}
`;

export const GLSL_COMPOSITE_VS = /* glsl */ `#version 300 es
void main() {
  float x = float(gl_VertexID & 1) * 4.0 - 1.0;
  float y = float((gl_VertexID >> 1) & 1) * 4.0 - 1.0;
  gl_Position = vec4(x, y, 0.0, 1.0);
}
`;

export const GLSL_COMPOSITE_FS = /* glsl */ `#version 300 es
precision highp float;
uniform vec4 uCampos, uBg, uDepth;
uniform sampler2D tAcc;
out vec4 outColor;
vec3 ramp(float v) {
  float t = clamp(v, 0.0, 1.0);
  return clamp(vec3(1.5 - abs(4.0 * t - 3.0), 1.5 - abs(4.0 * t - 2.0), 1.5 - abs(4.0 * t - 1.0)), 0.0, 1.0);
}
void main() {
  vec4 a = texelFetch(tAcc, ivec2(gl_FragCoord.xy), 0);
  if (int(uCampos.w) == 1) {
    if (a.w < 0.05) { outColor = vec4(0.0, 0.0, 0.0, 1.0); return; }
    float z = a.x / a.w;
    outColor = vec4(ramp((z - uDepth.x) / (uDepth.y - uDepth.x)), 1.0);
    return;
  }
  outColor = vec4(a.xyz + (1.0 - a.w) * uBg.xyz, 1.0);
}
`;

/**
 * Multiple-render-target variant of WGSL_DRAW for the network's feature passes: one draw blends 4 per-Gaussian
 * colour sets (12 channels) into 4 rgba16float targets with the same α (so each target's 1 − T is the same).
 * `u.depth.w` holds how many of the 4 bound sets are real; the Gaussian id comes from the record's colour.w.
 */
export const WGSL_DRAW_MRT = /* wgsl */ `
${WGSL_UNIFORMS}@group(0) @binding(1) var<storage, read> rec: array<vec4f>;
@group(0) @binding(2) var<storage, read> s0: array<vec4f>;
@group(0) @binding(3) var<storage, read> s1: array<vec4f>;
@group(0) @binding(4) var<storage, read> s2: array<vec4f>;
@group(0) @binding(5) var<storage, read> s3: array<vec4f>;

struct VOut {
  @builtin(position) pos: vec4f,
  @location(0) d: vec2f,
  @location(1) @interpolate(flat) conic: vec3f,
  @location(2) @interpolate(flat) rect: vec4f,
  @location(3) @interpolate(flat) c0: vec4f,
  @location(4) @interpolate(flat) c1: vec3f,
  @location(5) @interpolate(flat) c2: vec3f,
  @location(6) @interpolate(flat) c3: vec3f,
};

${WGSL_SPLAT_COMMON}
@vertex fn vs(@builtin(vertex_index) vx: u32) -> VOut {
  var o: VOut;
  let c = splatCorner(vx);
  o.pos = c.pos;
  o.d = c.off;
  o.conic = vec3f(0.0); o.rect = vec4f(0.0);
  o.c0 = vec4f(0.0); o.c1 = vec3f(0.0); o.c2 = vec3f(0.0); o.c3 = vec3f(0.0);
  if (!c.visible) { return o; }
  let r = c.ii * 5u;
  o.conic = rec[r + 2u].xyz;
  o.rect = rec[r + 4u];
  let id = bitcast<u32>(rec[r + 3u].w);
  let n = u32(u.depth.w);
  o.c0 = vec4f(s0[id].xyz, rec[r].z);
  if (n > 1u) { o.c1 = s1[id].xyz; }
  if (n > 2u) { o.c2 = s2[id].xyz; }
  if (n > 3u) { o.c3 = s3[id].xyz; }
  return o;
}

struct FOut {
  @location(0) t0: vec4f,
  @location(1) t1: vec4f,
  @location(2) t2: vec4f,
  @location(3) t3: vec4f,
};

@fragment fn fs(i: VOut) -> FOut {
  let alpha = splatAlpha(i.d, i.conic, i.rect, i.c0.w);
  if (alpha < 1.0 / 255.0) { discard; }
  var o: FOut;
  o.t0 = vec4f(i.c0.xyz * alpha, alpha);
  o.t1 = vec4f(i.c1 * alpha, alpha);
  o.t2 = vec4f(i.c2 * alpha, alpha);
  o.t3 = vec4f(i.c3 * alpha, alpha);
  return o;
}
`;

/**
 * GLSL twin of WGSL_DRAW_MRT: GLSL_SPLAT_VS with the colour taken from 4 set textures (uDepth.w of them real),
 * and a fragment shader writing 4 targets.
 */
export const GLSL_SPLAT_MRT_VS = GLSL_SPLAT_VS.replace(
  "uniform sampler2D tPosOp, tScale, tRot, tSh, tAlt;",
  "uniform sampler2D tPosOp, tScale, tRot, tSh, tAlt, tS1, tS2, tS3;\nflat out vec3 vC1, vC2, vC3;",
).replace(
  "  vColor = vec4(col, opacity);",
  "  vColor = vec4(fetch(tAlt, id).xyz, opacity);\n" +
    "  int nSets = int(uDepth.w);\n" +
    "  vC1 = nSets > 1 ? fetch(tS1, id).xyz : vec3(0.0);\n" +
    "  vC2 = nSets > 2 ? fetch(tS2, id).xyz : vec3(0.0);\n" +
    "  vC3 = nSets > 3 ? fetch(tS3, id).xyz : vec3(0.0);",
);

export const GLSL_SPLAT_MRT_FS = /* glsl */ `#version 300 es
precision highp float;
in vec2 vD;
flat in vec3 vConic;
flat in vec4 vColor;
flat in vec4 vRect;
flat in vec3 vC1, vC2, vC3;
layout(location = 0) out vec4 o0;
layout(location = 1) out vec4 o1;
layout(location = 2) out vec4 o2;
layout(location = 3) out vec4 o3;
${GLSL_SPLAT_ALPHA}
void main() {
  float alpha = splatAlpha(vD, vConic, vRect, vColor.w);
  if (alpha < 1.0 / 255.0) discard;
  o0 = vec4(vColor.xyz * alpha, alpha);
  o1 = vec4(vC1 * alpha, alpha);
  o2 = vec4(vC2 * alpha, alpha);
  o3 = vec4(vC3 * alpha, alpha);
}
`;
