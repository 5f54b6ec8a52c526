/** A minimal ustar writer: regular files only, as the Docker provider builds its upload tars. */

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, "0") + "\0";
}

export interface TarFile {
  /** Path inside the archive; a leading `/` is dropped, as tar and Docker do. */
  name: string;
  content: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

/** One tar archive holding `files`, owned by uid/gid 0 unless told otherwise. */
export function tarFiles(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const name = f.name.replace(/^\/+/, "");
    let prefix = "";
    let base = name;
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf("/", 155);
      prefix = name.slice(0, cut);
      base = name.slice(cut + 1);
      if (cut <= 0 || Buffer.byteLength(base) > 100) throw new Error(`tar: path too long for ustar: ${name}`);
    }
    const h = Buffer.alloc(512);
    field(h, 0, 100, base);
    field(h, 100, 8, octal(f.mode & 0o7777, 8));
    field(h, 108, 8, octal(f.uid ?? 0, 8));
    field(h, 116, 8, octal(f.gid ?? 0, 8));
    field(h, 124, 12, octal(f.content.length, 12));
    field(h, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
    h.fill(0x20, 148, 156);
    field(h, 156, 1, "0");
    field(h, 257, 6, "ustar\0");
    field(h, 263, 2, "00");
    field(h, 345, 155, prefix);
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    parts.push(h, f.content, Buffer.alloc((512 - (f.content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
