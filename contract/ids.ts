// Ids that become MQTT topic levels: cameras, gateways, shards. The MQTT wildcards and the level
// separator are refused (MQTT 5 4.7.1), as are strings that are not well-formed UTF-8 (1.5.4).
import { FACEGATE_ERR_TOPIC } from '../shared/errors.ts';

export const MAX_ID = 128;

/** Why an id cannot be a topic level, or undefined when it can. */
export function badId(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID) return `is longer than ${MAX_ID} characters`;
  if (/[+#/\u0000]/.test(id)) return 'contains one of + # / or NUL';
  // A lone surrogate would become U+FFFD on the wire.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(id))
    return 'is not well-formed Unicode';
  return undefined;
}

export function isValidId(id: string): boolean {
  return badId(id) === undefined;
}

/** Throws FACEGATE_ERR_TOPIC (exit 2) in one line: for ids that come from the configuration. */
export function assertId(kind: 'camera' | 'gateway', id: string): string {
  const why = badId(id);
  if (why)
    throw FACEGATE_ERR_TOPIC(`${kind} id ${JSON.stringify(id)} ${why}; it cannot be an MQTT topic level`);
  return id;
}

/** The prefix without trailing slashes; throws FACEGATE_ERR_TOPIC when it cannot start a topic. */
export function checkPrefix(prefix: string): string {
  const p = prefix.replace(/\/+$/, '');
  if (p === '' || /[+#\u0000]/.test(p))
    throw FACEGATE_ERR_TOPIC(`mqtt.prefix ${JSON.stringify(prefix)} must be non-empty without + or #`);
  return p;
}
