// Hand-crafted tar headers for the malicious-archive tests: written independently of src/adapters/tar.ts
// so a bug there cannot hide in both the writer and the reader.
export function rawHeader(name: string, opts: { type?: string; size?: number; linkname?: string; prefix?: string } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write((opts.size ?? 0).toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write(opts.type ?? '0', 156, 'ascii');
  if (opts.linkname) h.write(opts.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  if (opts.prefix) h.write(opts.prefix, 345, 155, 'utf8');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export function rawEntry(name: string, data: Buffer | string, opts: { type?: string; linkname?: string; prefix?: string } = {}): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([rawHeader(name, { ...opts, size: body.length }), body, pad]);
}

export function rawTar(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}
