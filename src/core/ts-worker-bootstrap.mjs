// Worker entry used when the worker module is TypeScript source: register tsx in this thread
// (loader hooks registered in the main thread do not reach workers), then load the real module.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
