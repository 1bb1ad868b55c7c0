// One way to turn zod schemas into the JSON Schema the OpenAPI document shows, for the REST routes
// and the socket.io messages alike.
import { z } from 'zod';

/** A zod schema as the document shows it (JSON Schema 2020-12): what a client sends as input, what it receives as output. */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    // z.int() says "a safe integer" with bounds no reader needs.
    override: ({ jsonSchema }) => {
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as Record<string, unknown>;
  delete out.$schema;
  return out;
};
