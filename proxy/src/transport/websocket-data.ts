/**
 * What the WebSocket relay hands around, as the inspections of both directions read it
 * (echo-websocket.ts, dlp-websocket.ts).
 */

/** RFC 6455 policy violation: the close code of a WebSocket stopped by an inspection. */
export const POLICY_VIOLATION = 1008;

/** Message, ping or close data as bytes, whatever form the relay passed it in. */
export function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === "string") return Buffer.from(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.alloc(0);
}
