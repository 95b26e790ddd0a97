/**
 * Baked lighting: ambient plus a few point lights under the ceiling, Lambertian diffuse and a Blinn–Phong specular
 * term on shiny materials, attenuated by shadow-map visibility (shadows.ts). The mesh raster and the Gaussians
 * evaluate this one function, so they agree by construction, and the view-dependent part gives the SH
 * coefficients something to encode.
 */
import type { Rgb } from "./materials.ts";
import type { ShadowMap } from "./shadows.ts";

export interface PointLight {
  position: [number, number, number];
  intensity: Rgb;
}

export interface Lighting {
  ambient: Rgb;
  lights: PointLight[];
  /** One shadow map per light; without them every light reaches every point. */
  shadows?: ShadowMap[];
}

/** Distance (m) at which a light's power has halved; keeps rooms of 3–8 m evenly lit. */
const FALLOFF = 3.5;

/**
 * Radiance leaving point p with unit normal n toward unit direction v (from the point to the eye), for diffuse
 * albedo `albedo` and specular strength `ks` / exponent `shininess`, with `visibility[k]` the unshadowed fraction
 * of light k (default 1). Written to `out`.
 */
export function shadePoint(
  lighting: Lighting,
  albedo: Rgb,
  ks: number,
  shininess: number,
  p: readonly number[],
  n: readonly number[],
  v: readonly number[],
  out: Rgb,
  visibility?: ArrayLike<number>,
): Rgb {
  let r = albedo[0] * lighting.ambient[0], g = albedo[1] * lighting.ambient[1], b = albedo[2] * lighting.ambient[2];
  for (let k = 0; k < lighting.lights.length; k++) {
    const light = lighting.lights[k];
    const vis = visibility ? visibility[k] : 1;
    if (vis <= 0) continue;
    let lx = light.position[0] - p[0], ly = light.position[1] - p[1], lz = light.position[2] - p[2];
    const d2 = lx * lx + ly * ly + lz * lz;
    const d = Math.sqrt(d2);
    lx /= d;
    ly /= d;
    lz /= d;
    const ndl = n[0] * lx + n[1] * ly + n[2] * lz;
    if (ndl <= 0) continue;
    const fall = vis / (1 + d2 / (FALLOFF * FALLOFF));
    let diff = ndl * fall;
    let spec = 0;
    if (ks > 0) {
      let hx = lx + v[0], hy = ly + v[1], hz = lz + v[2];
      const hn = Math.hypot(hx, hy, hz) || 1;
      hx /= hn;
      hy /= hn;
      hz /= hn;
      const ndh = n[0] * hx + n[1] * hy + n[2] * hz;
      if (ndh > 0) spec = ks * Math.pow(ndh, shininess) * fall;
    }
    diff *= 1 - ks;
    r += light.intensity[0] * (albedo[0] * diff + spec);
    g += light.intensity[1] * (albedo[1] * diff + spec);
    b += light.intensity[2] * (albedo[2] * diff + spec);
  }
  out[0] = Math.min(1, r);
  out[1] = Math.min(1, g);
  out[2] = Math.min(1, b);
  return out;
}
