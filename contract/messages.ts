// The typed topic map: for every kind of topic, the schema of its payload. A subscriber that
// takes several kinds parses with parseMessage and gets the payload typed by its topic.
import type { z } from 'zod';
import { catalogSchema } from './catalog.ts';
import { controlSchema } from './control.ts';
import { faceEventSchema } from './faces.ts';
import { liveViewAuditSchema, privacyCommandSchema, privacyRecordSchema } from './privacy.ts';
import { statsMessageSchema } from './stats.ts';
import { cameraStatusSchema, gatewayStatusSchema, simulatorStatusSchema } from './status.ts';
import { parseTopic, type TopicKind, type TopicRef } from './topics.ts';
import { truthSchema } from './truth.ts';
import { issueLine, parseJson } from './parse.ts';

export const payloadSchemas = {
  faces: faceEventSchema,
  cameraStatus: cameraStatusSchema,
  gatewayStatus: gatewayStatusSchema,
  gatewayStats: statsMessageSchema,
  catalog: catalogSchema,
  simulatorStatus: simulatorStatusSchema,
  simulatorSet: controlSchema,
  truth: truthSchema,
  privacySet: privacyCommandSchema,
  privacyState: privacyRecordSchema,
  auditLiveView: liveViewAuditSchema,
} as const satisfies Record<TopicKind, z.ZodType>;

export type Payloads = { [K in TopicKind]: z.infer<(typeof payloadSchemas)[K]> };

/** One message: its topic recognised and its payload parsed (`ok`), cleared, or why not. */
export type Message =
  | {
      [K in TopicKind]: { status: 'ok'; kind: K; ref: Extract<TopicRef, { kind: K }>; payload: Payloads[K] };
    }[TopicKind]
  /** An empty retained message: the topic's retained payload is cleared. */
  | { status: 'cleared'; kind: TopicKind; ref: TopicRef }
  | { status: 'invalid'; kind: TopicKind; ref: TopicRef; error: string };

/** Undefined when the topic is not one of ours. */
export function parseMessage(topic: string, payload: Buffer | string, prefix: string): Message | undefined {
  const ref = parseTopic(topic, prefix);
  if (!ref) return undefined;
  const kind = ref.kind;
  if (payload.length === 0) return { status: 'cleared', kind, ref };
  const json = parseJson(payload);
  if (!json.ok) return { status: 'invalid', kind, ref, error: `${kind} is not JSON` };
  const res = payloadSchemas[kind].safeParse(json.data);
  if (!res.success) return { status: 'invalid', kind, ref, error: issueLine(kind, res.error) };
  return { status: 'ok', kind, ref, payload: res.data } as Message;
}
