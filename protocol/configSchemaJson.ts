// The JSON Schema of `*.reclab.json` config files (written to dist/schema by the build).
import { z } from 'zod';
import { configFileSchema, dataSchema } from './config';

export function configJsonSchema(): unknown {
  const file = z.toJSONSchema(configFileSchema, { io: 'input' }) as { properties: Record<string, unknown> };
  // In a file, data may be partial when it keeps the preset's kind, so each variant is offered partially.
  const partialData = z.union(dataSchema.options.map((o) => o.partial()));
  file.properties['data'] = { ...(z.toJSONSchema(partialData, { io: 'input' }) as object), description: 'Data section (merged onto the preset, then validated).' };
  return file;
}
