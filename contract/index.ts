// The contract between facegate's processes: every MQTT topic (topics.ts) and a zod schema per
// payload with its inferred type. Producers build payloads that satisfy these types; consumers
// parse with these schemas. Imports zod and node: only, plus the leaf modules shared/errors.ts
// and shared/text.ts (which import nothing).
export * from './ids.ts';
export * from './topics.ts';
export * from './parse.ts';
export * from './masks.ts';
export * from './catalog.ts';
export * from './status.ts';
export * from './faces.ts';
export * from './stats.ts';
export * from './control.ts';
export * from './truth.ts';
export * from './privacy.ts';
export * from './messages.ts';
