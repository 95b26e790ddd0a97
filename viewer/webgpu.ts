/// <reference types="@webgpu/types" />
/**
 * WebGPU back-end: a compute pass projects each visible Gaussian once (in sorted order) into a 5-vec4 record,
 * one instanced triangle-strip draw blends the records' quads into rgba16float, a composite pass shows it.
 */
import type { Packed } from "./prepare.ts";
import { uniformData, type FrameParams, type SplatRenderer } from "./renderer.ts";
import { WGSL_COMPOSITE, WGSL_DRAW, WGSL_PROJECT } from "./shaders.ts";

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

  const storage = (data: Float32Array | Uint32Array) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  };
  const rebind = () => {
    if (!bufs) return;
    projGroup = device.createBindGroup({
      layout: projPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniforms } },
        { binding: 1, resource: { buffer: bufs.posOp } },
        { binding: 2, resource: { buffer: bufs.scale } },
        { binding: 3, resource: { buffer: bufs.rot } },
        { binding: 4, resource: { buffer: bufs.sh } },
        { binding: 5, resource: { buffer: bufs.alt } },
        { binding: 6, resource: { buffer: bufs.order } },
        { binding: 7, resource: { buffer: bufs.rec } },
      ],
    });
    splatGroup = device.createBindGroup({
      layout: splatPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniforms } },
        { binding: 1, resource: { buffer: bufs.rec } },
      ],
    });
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
      if (count > 0) {
        const cp = enc.beginComputePass();
        cp.setPipeline(projPipeline);
        cp.setBindGroup(0, projGroup!);
        const groups = Math.ceil(count / 64);
        cp.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
        cp.end();
      }
      const p1 = enc.beginRenderPass({
        colorAttachments: [{ view: acc.createView(), loadOp: "clear", storeOp: "store", clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
      });
      if (count > 0) {
        p1.setPipeline(splatPipeline);
        p1.setBindGroup(0, splatGroup);
        p1.draw(6 * count);
      }
      p1.end();
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
  };
}
