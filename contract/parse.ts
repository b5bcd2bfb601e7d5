// Parsing a payload with a contract schema: JSON first, then the schema; an error is one line
// naming the first bad field, never a throw.
import type { z } from 'zod';
import { oneLine } from '../shared/text.ts';

export type Parsed<T> = { ok: true; data: T } | { ok: false; error: string };

/** What a payload of `what` lacks, as one line: "<what>: path: message". */
export function issueLine(what: string, error: z.ZodError): string {
  const i = error.issues[0];
  return oneLine(`${what}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`);
}

export function parseJson(payload: Buffer | string): Parsed<unknown> {
  try {
    return { ok: true, data: JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) };
  } catch {
    return { ok: false, error: 'not JSON' };
  }
}

/** JSON.parse and schema.safeParse; `what` names the payload in the error line. */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  payload: Buffer | string,
  what: string,
): Parsed<z.infer<S>> {
  const json = parseJson(payload);
  if (!json.ok) return { ok: false, error: `${what} is not JSON` };
  const res = schema.safeParse(json.data);
  return res.success ? { ok: true, data: res.data } : { ok: false, error: issueLine(what, res.error) };
}
