/** The schema of an adversarial check's `reset:` (loaded with the kind's schema; the runtime is reset.ts). */
import { requestSchema, statusSchema, stringMapSchema } from '../../api/vocabulary.js'

const duration = { type: ['string', 'number'], description: 'A duration like 10s, or milliseconds' }

/** JSON Schema of `reset`: a request to the service, or a command. */
export const resetSchema = {
  description: 'How to bring a sandbox back to a clean state between phases: a request, or a command.',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['request'],
      properties: {
        request: requestSchema,
        service: { type: 'string', minLength: 1 },
        headers: stringMapSchema,
        expect: {
          type: 'object',
          additionalProperties: false,
          properties: { status: statusSchema },
        },
        timeout: duration,
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['run'],
      properties: {
        run: {
          anyOf: [
            { type: 'string', minLength: 1 },
            { type: 'array', items: { type: 'string' }, minItems: 1 },
          ],
        },
        service: { type: 'string', minLength: 1 },
        cwd: { type: 'string', 'x-file': 'folder' },
        env: stringMapSchema,
        timeout: duration,
      },
    },
  ],
}
