// Shared fast-check settings and byte helpers for the protocol fuzz targets.
import fc from 'fast-check';

/** Fixed seeds: a failure reproduces; FUZZ_SEED=<n> explores other inputs. */
export const seed = Number(process.env['FUZZ_SEED'] ?? 20240501);
export const runs = (n: number): fc.Parameters<unknown> => ({ numRuns: n, seed, endOnFailure: false });

/** Cuts a buffer at the given points (taken modulo its length). */
export function cut(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  return out;
}

/** Printable ASCII strings (header values, bodies). */
export const printable = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ maxLength, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });

export const bytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
