/**
 * WebGL2 fallback: RGBA32F data textures, the sorted ids in an R32UI texture, one triangle list (6 vertices per
 * Gaussian, projected in the vertex stage) into an RGBA16F target, a composite pass.
 */
import type { Packed } from "./prepare.ts";
import { uniformData, type FrameParams, type SplatRenderer } from "./renderer.ts";
import { GLSL_COMPOSITE_FS, GLSL_COMPOSITE_VS, GLSL_SPLAT_FS, GLSL_SPLAT_MRT_FS, GLSL_SPLAT_MRT_VS, GLSL_SPLAT_VS } from "./shaders.ts";

const TEX_W = 2048;

export function createWebGl2Renderer(canvas: HTMLCanvasElement): SplatRenderer {
  const gl = canvas.getContext("webgl2", { antialias: false, alpha: false, preserveDrawingBuffer: true, depth: false });
  if (!gl) throw new Error("WebGL2 is not available in this browser");
  if (!gl.getExtension("EXT_color_buffer_float") && !gl.getExtension("EXT_color_buffer_half_float")) {
    throw new Error("WebGL2: float render targets (EXT_color_buffer_float) are not supported");
  }
  const program = (vs: string, fs: string) => {
    const p = gl.createProgram()!;
    for (const [type, src] of [
      [gl.VERTEX_SHADER, vs],
      [gl.FRAGMENT_SHADER, fs],
    ] as const) {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL2 shader: ${gl.getShaderInfoLog(s)}`);
      gl.attachShader(p, s);
    }
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`WebGL2 link: ${gl.getProgramInfoLog(p)}`);
    return p;
  };
  const splat = program(GLSL_SPLAT_VS, GLSL_SPLAT_FS);
  // The network's feature passes: 4 colour sets per draw into 4 RGBA16F targets.
  const splatMrt = program(GLSL_SPLAT_MRT_VS, GLSL_SPLAT_MRT_FS);
  const comp = program(GLSL_COMPOSITE_VS, GLSL_COMPOSITE_FS);
  const uni = (p: WebGLProgram, n: string) => gl.getUniformLocation(p, n);

  const emptyVao = gl.createVertexArray()!;

  const textures = new Map<string, WebGLTexture>();
  const dataTexture = (name: string, data: Float32Array) => {
    const texels = Math.max(1, data.length / 4);
    const rows = Math.ceil(texels / TEX_W);
    const padded = new Float32Array(rows * TEX_W * 4);
    padded.set(data);
    let t = textures.get(name);
    if (t) gl.deleteTexture(t);
    t = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, TEX_W, rows, 0, gl.RGBA, gl.FLOAT, padded);
    textures.set(name, t);
  };

  let packed: Packed | undefined;
  let orderTex: WebGLTexture | undefined;
  let orderRows = 0;
  let orderStage = new Uint32Array(0);
  let fbo: WebGLFramebuffer | undefined;
  let accTex: WebGLTexture | undefined;
  let accW = 0, accH = 0;
  let setCount = 0;
  let offFbo: WebGLFramebuffer | undefined;
  let offTex: WebGLTexture[] = [];
  let offW = 0, offH = 0;

  /** An RGBA16F texture of W×H and a framebuffer drawing into it. */
  const target = (W: number, H: number) => {
    const tex = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA16F, W, H, 0, gl.RGBA, gl.HALF_FLOAT, null);
    const fb = gl.createFramebuffer()!;
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) throw new Error("WebGL2: RGBA16F target incomplete");
    return { tex, fb };
  };

  /**
   * The splat pass into the bound framebuffer (cleared first), colours from the texture `alt` for source 2. With
   * `prog = splatMrt`, `alt` and `more` name the 4 colour-set textures, `sets` of them real (uDepth.w).
   */
  const drawSplats = (f: FrameParams, order: Uint32Array, count: number, alt: string, prog = splat, more: string[] = [], sets = 0) => {
    const u = uniformData(f, packed!.shStride, packed!.shDegree);
    u[31] = sets;
    const names = ["uView0", "uView1", "uView2", "uIntr", "uSize", "uCampos", "uBg", "uDepth"];
    gl.viewport(0, 0, f.width, f.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(prog);
    names.forEach((n, i) => gl.uniform4fv(uni(prog, n), u.subarray(i * 4, i * 4 + 4)));
    ["tPosOp", "tScale", "tRot", "tSh", alt].forEach((n, i) => {
      gl.activeTexture(gl.TEXTURE0 + i);
      gl.bindTexture(gl.TEXTURE_2D, textures.get(n)!);
      gl.uniform1i(uni(prog, ["tPosOp", "tScale", "tRot", "tSh", "tAlt"][i]), i);
    });
    // The sorted ids, as rows of an R32UI texture (only the rows that hold the first `count`).
    const rows = Math.ceil(count / TEX_W);
    orderStage.set(order.subarray(0, count));
    gl.activeTexture(gl.TEXTURE5);
    gl.bindTexture(gl.TEXTURE_2D, orderTex!);
    if (rows > 0) gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, TEX_W, rows, gl.RED_INTEGER, gl.UNSIGNED_INT, orderStage, 0);
    gl.uniform1i(uni(prog, "tOrder"), 5);
    more.forEach((n, j) => {
      gl.activeTexture(gl.TEXTURE6 + j);
      gl.bindTexture(gl.TEXTURE_2D, textures.get(n)!);
      gl.uniform1i(uni(prog, `tS${j + 1}`), 6 + j);
    });
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE_MINUS_DST_ALPHA, gl.ONE);
    gl.bindVertexArray(emptyVao);
    if (count > 0) gl.drawArrays(gl.TRIANGLES, 0, 6 * count);
    gl.bindVertexArray(null);
    gl.disable(gl.BLEND);
    return u;
  };

  return {
    backend: "webgl2",
    upload(p) {
      packed = p;
      dataTexture("tPosOp", p.posOp);
      dataTexture("tScale", p.scale);
      dataTexture("tRot", p.rot);
      dataTexture("tSh", p.sh);
      dataTexture("tAlt", new Float32Array(p.count * 4));
      if (orderTex) gl.deleteTexture(orderTex);
      orderRows = Math.max(1, Math.ceil(p.count / TEX_W));
      orderTex = gl.createTexture()!;
      gl.bindTexture(gl.TEXTURE_2D, orderTex);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl.R32UI, TEX_W, orderRows);
      orderStage = new Uint32Array(orderRows * TEX_W);
    },
    setAltColors(c) {
      dataTexture("tAlt", c);
    },
    draw(f: FrameParams, order: Uint32Array, count: number) {
      if (!packed) return;
      if (!fbo || accW !== f.width || accH !== f.height) {
        if (fbo) gl.deleteFramebuffer(fbo);
        if (accTex) gl.deleteTexture(accTex);
        ({ tex: accTex, fb: fbo } = target(f.width, f.height));
        accW = f.width;
        accH = f.height;
      }
      // pass 1: splats
      gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
      const u = drawSplats(f, order, count, "tAlt");
      // pass 2: composite to the canvas
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.viewport(0, 0, f.width, f.height);
      gl.useProgram(comp);
      gl.uniform4fv(uni(comp, "uCampos"), u.subarray(20, 24));
      gl.uniform4fv(uni(comp, "uBg"), u.subarray(24, 28));
      gl.uniform4fv(uni(comp, "uDepth"), u.subarray(28, 32));
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, accTex!);
      gl.uniform1i(uni(comp, "tAcc"), 0);
      gl.bindVertexArray(emptyVao);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.bindVertexArray(null);
    },
    async finish() {
      const px = new Uint8Array(4);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    },
    setChannelSets(sets) {
      sets.forEach((c, k) => dataTexture(`tSet${k}`, c));
      for (let k = sets.length; k < setCount; k++) {
        gl.deleteTexture(textures.get(`tSet${k}`)!);
        textures.delete(`tSet${k}`);
      }
      setCount = sets.length;
    },
    async readChannels(f, order, count, sources) {
      if (!packed) throw new Error("WebGL2: no scene uploaded");
      const W = f.width, H = f.height;
      if (!offFbo || offW !== W || offH !== H) {
        if (offFbo) gl.deleteFramebuffer(offFbo);
        for (const t of offTex) gl.deleteTexture(t);
        const first = target(W, H);
        offFbo = first.fb;
        offTex = [first.tex];
        for (let j = 1; j < 4; j++) {
          const t = target(W, H);
          gl.deleteFramebuffer(t.fb);
          offTex.push(t.tex);
        }
        gl.bindFramebuffer(gl.FRAMEBUFFER, offFbo);
        offTex.forEach((t, j) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + j, gl.TEXTURE_2D, t, 0));
        if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) throw new Error("WebGL2: 4 × RGBA16F targets incomplete");
        offW = W;
        offH = H;
      }
      // RGB alone; channel sets 4 to a draw, in the order given.
      const passes: { sets: number[]; slots: number[] }[] = [];
      sources.forEach((src, i) => {
        if (src === "rgb") return void passes.push({ sets: [], slots: [i] });
        if (!textures.has(`tSet${src}`)) throw new Error(`WebGL2: no channel set ${src}`);
        const last = passes[passes.length - 1];
        if (last === undefined || last.sets.length === 0 || last.sets.length === 4) passes.push({ sets: [src], slots: [i] });
        else {
          last.sets.push(src);
          last.slots.push(i);
        }
      });
      const out: Float32Array[] = [];
      const rows = new Float32Array(W * H * 4);
      gl.bindFramebuffer(gl.FRAMEBUFFER, offFbo!);
      const all = [gl.COLOR_ATTACHMENT0, gl.COLOR_ATTACHMENT1, gl.COLOR_ATTACHMENT2, gl.COLOR_ATTACHMENT3];
      for (const pass of passes) {
        const rgb = pass.sets.length === 0;
        gl.drawBuffers(rgb ? [gl.COLOR_ATTACHMENT0, gl.NONE, gl.NONE, gl.NONE] : all);
        const fp: FrameParams = { ...f, source: rgb ? 0 : 2 };
        if (rgb) drawSplats(fp, order, count, "tAlt");
        else {
          // Sets beyond the real ones repeat the first and are not read.
          const names = [0, 1, 2, 3].map((j) => `tSet${pass.sets[j] ?? pass.sets[0]}`);
          drawSplats(fp, order, count, names[0], splatMrt, names.slice(1), pass.sets.length);
        }
        pass.slots.forEach((slot, j) => {
          gl.readBuffer(all[j]);
          gl.readPixels(0, 0, W, H, gl.RGBA, gl.FLOAT, rows);
          // GL rows run bottom-up; the splat shader maps image row 0 to the top.
          const img = new Float32Array(W * H * 4);
          for (let y = 0; y < H; y++) img.set(rows.subarray((H - 1 - y) * W * 4, (H - y) * W * 4), y * W * 4);
          out[slot] = img;
        });
      }
      gl.readBuffer(gl.COLOR_ATTACHMENT0);
      gl.drawBuffers([gl.COLOR_ATTACHMENT0, gl.NONE, gl.NONE, gl.NONE]);
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      return out;
    },
  };
}
