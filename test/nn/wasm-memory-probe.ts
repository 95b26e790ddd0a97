/**
 * Records every WebAssembly.Memory created after this module runs, so a test can watch jax-js's heap size.
 * Import it before anything that imports jax-js.
 */
const Original = WebAssembly.Memory;
export const memories: WebAssembly.Memory[] = [];

function RecordingMemory(descriptor: WebAssembly.MemoryDescriptor): WebAssembly.Memory {
  const m = new Original(descriptor);
  memories.push(m);
  return m;
}
RecordingMemory.prototype = Original.prototype;
(WebAssembly as { Memory: unknown }).Memory = RecordingMemory;

/** Total bytes of every recorded wasm memory. */
export function wasmBytes(): number {
  return memories.reduce((a, m) => a + m.buffer.byteLength, 0);
}
