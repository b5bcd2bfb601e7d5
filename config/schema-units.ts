// Units the configuration sections share (config/schema.ts, config/schema-gateway.ts).
import { z } from 'zod';

export const port = z.number().int().min(0).max(65535);
export const seconds = z.number().positive();
