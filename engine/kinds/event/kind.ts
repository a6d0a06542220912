/**
 * event: a trigger — an HTTP request to a service, or a message published on the broker — then the messages
 * captured on named channels of each sandbox's own broker, from before the trigger until `within`: counted,
 * validated against a JSON Schema or an AsyncAPI message, asserted like e2e bodies, and compared with the
 * baseline's messages the way contract checks compare bodies (removed or renamed fields, type changes, a
 * message no longer sent, a channel renamed are breaking; values that differ between two baseline
 * triggers are noise). The trigger runs on both sides: each has its own broker and state.
 */
import { eventSchema, type EventParams } from './schema.js'
import { defineCheckKind } from '../../api/kind.js'

export type { EventParams, EventExpect } from './schema.js'

export default defineCheckKind<EventParams, 'http' | 'broker'>({
  meta: {
    needs: ['http', 'broker'],
    // A capture sees every message on its channels. The observations run first beside the other checks (once
    // the comparing ones have ended), keeping the messages that carry an identifier the trigger revealed first;
    // when a message is nobody's or both's, or a count is not met, they run again alone, once every other
    // check has ended. The set-up (documents, schemas, broker connections) runs beside the other checks.
    exclusive: 'measure',
    description: 'Messages a trigger makes services send: counted, validated, and compared with the baseline',
    schema: eventSchema,
    messages: {
      trigger: 'Trigger {{trigger}} failed on the {{sandbox}}: {{detail}}.',
      count: 'Channel {{channel}}: expected {{expected}} message(s) within {{within}}, got {{actual}}.',
      schema: 'Channel {{channel}}, message {{index}}: {{pointer}} {{detail}} ({{schema}}).',
      json: 'Channel {{channel}}, message {{index}}: {{pointer}}: {{detail}}.',
      'not-json': 'Channel {{channel}}, message {{index}}: expected a JSON payload, got {{excerpt}}.',
      'unknown-channel': 'Channel {{channel}} is not in {{document}}; it has {{known}}{{hint}}.',
      'field-removed': 'Channel {{channel}}: field {{pointer}} was removed{{rename}}{{where}}.',
      'type-changed': 'Channel {{channel}}: field {{pointer}} changed type from {{from}} to {{to}}{{where}}.',
      'became-null': 'Channel {{channel}}: field {{pointer}} became null{{where}}.',
      'no-longer-sent':
        'Channel {{channel}}: the baseline sent {{baseline}} message(s), the candidate none{{renamed}}.',
      'count-changed':
        'Channel {{channel}}: the baseline sent {{baseline}} message(s), the candidate {{candidate}}.',
      'value-changed':
        'Channel {{channel}}: {{pointer}} changed from {{baseline}} to {{candidate}}{{where}}.',
      'field-added': 'Channel {{channel}}: new field {{pointer}}{{where}}.',
      'new-channel':
        'The candidate also sent {{count}} message(s) on {{channel}}, which the baseline did not use.',
    },
  },
  // The broker clients, ajv documents and the AsyncAPI parser load on the first run, not with the schema.
  run: async (ctx) => (await import('./run.js')).runEvent(ctx),
})
