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

/**
 * The schema the editor uses for completion and hovers: the same, without `additionalProperties:
 * false`, because VS Code shows schema violations as warnings — unknown fields come as errors from
 * the extension's own diagnostics (protocol/configDiagnostics.ts), the trainer's exact messages.
 */
export function configEditorJsonSchema(): unknown {
  const open = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(open);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'additionalProperties' && x === false)).map(([k, x]) => [k, open(x)]));
  };
  return open(configJsonSchema());
}
