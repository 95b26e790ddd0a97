/// <reference types="@webgpu/types" />
/**
 * WebGPU back-end: a compute pass projects each visible Gaussian once (in sorted order) into a 5-vec4 record,
 * one instanced triangle-strip draw blends the records' quads into rgba16float, a composite pass shows it.
 */
import { float16BitsToFloat32 } from "../src/nn/safetensors-decode.ts";
import type { Packed } from "./prepare.ts";
import { uniformData, type FrameParams, type SplatRenderer } from "./renderer.ts";
import { WGSL_COMPOSITE, WGSL_DRAW, WGSL_DRAW_MRT, WGSL_PROJECT } from "./shaders.ts";

export async function createWebGpuRenderer(canvas: HTMLCanvasElement): Promise<SplatRenderer> {
  if (!("gpu" in navigator) || !navigator.gpu) throw new Error("WebGPU is not available in this browser");
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("WebGPU: no adapter");
  const device = await adapter.requestDevice();
  void device.lost.then((info) => console.warn(`WebGPU device lost: ${info.message}`));
  device.addEventListener("uncapturederror", (e) => console.warn(`WebGPU error: ${e.error.message}`));
  const context = canvas.getContext("webgpu");
  if (!context) throw new Error("WebGPU: no canvas context");
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device, format, alphaMode: "opaque" });

  const projModule = device.createShaderModule({ code: WGSL_PROJECT });
  const splatModule = device.createShaderModule({ code: WGSL_DRAW });
  const projPipeline = device.createComputePipeline({ layout: "auto", compute: { module: projModule, entryPoint: "project" } });
  const compModule = device.createShaderModule({ code: WGSL_COMPOSITE });
  const blend: GPUBlendComponent = { srcFactor: "one-minus-dst-alpha", dstFactor: "one", operation: "add" };
  const splatPipeline = device.createRenderPipeline({
    layout: "auto",
    vertex: { module: splatModule, entryPoint: "vs" },
    fragment: { module: splatModule, entryPoint: "fs", targets: [{ format: "rgba16float", blend: { color: blend, alpha: blend } }] },
    primitive: { topology: "triangle-list" },
  });
  // The network's feature passes: 4 colour sets per draw into 4 rgba16float targets (32 bytes per sample, the
  // WebGPU default limit).
  const mrtModule = device.createShaderModule({ code: WGSL_DRAW_MRT });
  const mrtTarget: GPUColorTargetState = { format: "rgba16float", blend: { color: blend, alpha: blend } };
  const mrtPipeline = device.createRenderPipeline({
    layout: "auto",
    vertex: { module: mrtModule, entryPoint: "vs" },
    fragment: { module: mrtModule, entryPoint: "fs", targets: [mrtTarget, mrtTarget, mrtTarget, mrtTarget] },
    primitive: { topology: "triangle-list" },
  });
  const compPipeline = device.createRenderPipeline({
    layout: "auto",
    vertex: { module: compModule, entryPoint: "vs" },
    fragment: { module: compModule, entryPoint: "fs", targets: [{ format }] },
    primitive: { topology: "triangle-list" },
  });
  const uniforms = device.createBuffer({ size: 128, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });

  let packed: Packed | undefined;
  let bufs: Record<"posOp" | "scale" | "rot" | "sh" | "alt" | "order" | "rec", GPUBuffer> | undefined;
  let projGroup: GPUBindGroup | undefined;
  let splatGroup: GPUBindGroup | undefined;
  let acc: GPUTexture | undefined;
  let compGroup: GPUBindGroup | undefined;
  let setBufs: GPUBuffer[] = [];
  let offs: GPUTexture[] = [];
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });

  const storage = (data: Float32Array | Uint32Array) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  };
  const projGroupFor = (b: NonNullable<typeof bufs>, alt: GPUBuffer) =>
    device.createBindGroup({
      layout: projPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniforms } },
        { binding: 1, resource: { buffer: b.posOp } },
        { binding: 2, resource: { buffer: b.scale } },
        { binding: 3, resource: { buffer: b.rot } },
        { binding: 4, resource: { buffer: b.sh } },
        { binding: 5, resource: { buffer: alt } },
        { binding: 6, resource: { buffer: b.order } },
        { binding: 7, resource: { buffer: b.rec } },
      ],
    });
  const rebind = () => {
    if (!bufs) return;
    projGroup = projGroupFor(bufs, bufs.alt);
    splatGroup = device.createBindGroup({
      layout: splatPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniforms } },
        { binding: 1, resource: { buffer: bufs.rec } },
      ],
    });
  };

  const encodeProject = (enc: GPUCommandEncoder, group: GPUBindGroup, count: number) => {
    if (count === 0) return;
    const cp = enc.beginComputePass();
    cp.setPipeline(projPipeline);
    cp.setBindGroup(0, group);
    const groups = Math.ceil(count / 64);
    cp.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    cp.end();
  };
  /** Projection + splat passes into `target` (cleared first). */
  const encodeSplats = (enc: GPUCommandEncoder, group: GPUBindGroup, target: GPUTextureView, count: number) => {
    encodeProject(enc, group, count);
    const p1 = enc.beginRenderPass({
      colorAttachments: [{ view: target, loadOp: "clear", storeOp: "store", clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
    });
    if (count > 0) {
      p1.setPipeline(splatPipeline);
      p1.setBindGroup(0, splatGroup!);
      p1.draw(6 * count);
    }
    p1.end();
  };

  return {
    backend: "webgpu",
    upload(p) {
      packed = p;
      if (bufs) for (const b of Object.values(bufs)) b.destroy();
      bufs = {
        posOp: storage(p.posOp),
        scale: storage(p.scale),
        rot: storage(p.rot),
        sh: storage(p.sh),
        alt: storage(new Float32Array(p.count * 4)),
        order: storage(new Uint32Array(p.count)),
        rec: device.createBuffer({ size: Math.max(16, p.count * 80), usage: GPUBufferUsage.STORAGE }),
      };
      rebind();
    },
    setAltColors(c) {
      if (!bufs) return;
      bufs.alt.destroy();
      bufs.alt = storage(c);
      rebind();
    },
    draw(f: FrameParams, order: Uint32Array, count: number) {
      if (!packed || !bufs || !splatGroup) return;
      if (!acc || acc.width !== f.width || acc.height !== f.height) {
        acc?.destroy();
        acc = device.createTexture({
          size: [f.width, f.height],
          format: "rgba16float",
          usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING,
        });
        compGroup = device.createBindGroup({
          layout: compPipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: uniforms } },
            { binding: 1, resource: acc.createView() },
          ],
        });
      }
      const ud = uniformData(f, packed.shStride, packed.shDegree);
      ud[30] = count; // depth.z: instances the projection pass covers
      device.queue.writeBuffer(uniforms, 0, ud.buffer as ArrayBuffer, 0, ud.byteLength);
      device.queue.writeBuffer(bufs.order, 0, order.buffer, order.byteOffset, count * 4);
      const enc = device.createCommandEncoder();
      encodeSplats(enc, projGroup!, acc.createView(), count);
      const p2 = enc.beginRenderPass({
        colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: "clear", storeOp: "store", clearValue: { r: 0, g: 0, b: 0, a: 1 } }],
      });
      p2.setPipeline(compPipeline);
      p2.setBindGroup(0, compGroup!);
      p2.draw(3);
      p2.end();
      device.queue.submit([enc.finish()]);
    },
    finish: () => device.queue.onSubmittedWorkDone(),
    setChannelSets(sets) {
      for (const b of setBufs) b.destroy();
      setBufs = sets.map((c) => storage(c));
      rebind();
    },
    async readChannels(f, order, count, sources) {
      if (!packed || !bufs || !projGroup) throw new Error("WebGPU: no scene uploaded");
      const W = f.width, H = f.height;
      if (offs.length === 0 || offs[0].width !== W || offs[0].height !== H) {
        for (const t of offs) t.destroy();
        offs = [0, 1, 2, 3].map(() =>
          device.createTexture({ size: [W, H], format: "rgba16float", usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC }),
        );
      }
      // RGB alone; channel sets 4 to a draw, in the order given.
      const passes: { sets: number[]; slots: number[] }[] = [];
      sources.forEach((src, i) => {
        if (src === "rgb") return void passes.push({ sets: [], slots: [i] });
        if (setBufs[src] === undefined) throw new Error(`WebGPU: no channel set ${src}`);
        const last = passes[passes.length - 1];
        if (last === undefined || last.sets.length === 0 || last.sets.length === 4) passes.push({ sets: [src], slots: [i] });
        else {
          last.sets.push(src);
          last.slots.push(i);
        }
      });
      const rowBytes = Math.ceil((W * 8) / 256) * 256;
      const image = rowBytes * H;
      const read = device.createBuffer({ size: image * sources.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(bufs.order, 0, order.buffer, order.byteOffset, count * 4);
      for (const pass of passes) {
        const rgb = pass.sets.length === 0;
        const ud = uniformData({ ...f, source: rgb ? 0 : 2 }, packed.shStride, packed.shDegree);
        ud[30] = count;
        ud[31] = pass.sets.length;
        device.queue.writeBuffer(uniforms, 0, ud.buffer as ArrayBuffer, 0, ud.byteLength);
        const enc = device.createCommandEncoder();
        if (rgb) encodeSplats(enc, projGroup, offs[0].createView(), count);
        else {
          encodeProject(enc, projGroup, count);
          const group = device.createBindGroup({
            layout: mrtPipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: uniforms } },
              { binding: 1, resource: { buffer: bufs.rec } },
              ...[0, 1, 2, 3].map((j) => ({ binding: 2 + j, resource: { buffer: j < pass.sets.length ? setBufs[pass.sets[j]] : dummy } })),
            ],
          });
          const rp = enc.beginRenderPass({
            colorAttachments: offs.map((t) => ({ view: t.createView(), loadOp: "clear" as const, storeOp: "store" as const, clearValue: { r: 0, g: 0, b: 0, a: 0 } })),
          });
          if (count > 0) {
            rp.setPipeline(mrtPipeline);
            rp.setBindGroup(0, group);
            rp.draw(6 * count);
          }
          rp.end();
        }
        pass.slots.forEach((slot, j) =>
          enc.copyTextureToBuffer({ texture: offs[j] }, { buffer: read, offset: slot * image, bytesPerRow: rowBytes, rowsPerImage: H }, [W, H]),
        );
        device.queue.submit([enc.finish()]);
      }
      await read.mapAsync(GPUMapMode.READ);
      const bits = new Uint16Array(read.getMappedRange().slice(0));
      read.unmap();
      read.destroy();
      return sources.map((_, i) => {
        const out = new Float32Array(W * H * 4);
        for (let y = 0; y < H; y++) {
          const at = (i * image + y * rowBytes) / 2;
          out.set(float16BitsToFloat32(bits.subarray(at, at + W * 4)), y * W * 4);
        }
        return out;
      });
    },
  };
}
