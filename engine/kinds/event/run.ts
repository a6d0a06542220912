/**
 * The event kind's run: observe the candidate (and twice the baseline), assert, compare, report. The candidate
 * and the baseline are observed at the same time when their brokers keep them apart; a warm session's later
 * iterations reuse the noise the two baseline runs taught, and observe the baseline once.
 */
import { createHash } from 'node:crypto'
import { parseDuration } from '../../../plans/duration.js'
import path from 'node:path'
import { closest, distance } from 'fastest-levenshtein'
import { checkAssertion, formatValue } from '../../api/assertions.js'
import { schemaRegistry, validateValue, type CompiledSchema } from '../../api/documents/schema.js'
import { evidence, formatElapsed } from '../../api/evidence.js'
import { select } from '../../api/json-select.js'
import type { ReportDescriptor } from '../../api/kind.js'
import type { BrokerMessage } from '../../clients/index.js'
import { loadAsyncApi, messageSchema, type AsyncApiDocument } from './asyncapi.js'
import { rootCauses, sentenceValues } from '../../api/comparison/root-cause.js'
import { compareMessages, learnNoise, type EventNoise, type MessageChange } from './compare.js'
import {
  brokerOf,
  channelMatches,
  keptApart,
  observe,
  type EventContext,
  type Observation,
  type TriggerFailure,
  type Unclear,
} from './observe.js'
import type { EventExpect, EventParams } from './schema.js'

export async function runEvent(ctx: EventContext): Promise<void> {
  const params = ctx.vars.render(ctx.params)
  const compare =
    params.compare === 'baseline' || (typeof params.compare === 'object' && params.compare.baseline !== false)
  const ignore = typeof params.compare === 'object' ? (params.compare.ignore ?? []) : []
  const asyncapi = params.asyncapi
    ? await loadAsyncApi(path.resolve(ctx.plan.dir, params.asyncapi), params.asyncapi)
    : undefined
  if (asyncapi && !channelsKnown(ctx, params, asyncapi)) return
  const schemas = await Promise.all(params.expect.map((e) => compileSchema(ctx, e, params, asyncapi)))

  const baselineSandbox = ctx.sandboxes.baseline
  const wantBaseline = compare && baselineSandbox !== undefined
  const channels = params.expect.map((e) => e.channel)
  // A warm session keeps the noise of this check's baseline under a key of what makes the messages.
  const noiseKey = `noise ${createHash('sha256')
    .update(JSON.stringify([params.broker ?? '', params.trigger, channels]))
    .digest('hex')
    .slice(0, 16)}`
  const brokers = [brokerOf(ctx, ctx.sandboxes.candidate, params.broker)]
  if (wantBaseline) brokers.push(brokerOf(ctx, baselineSandbox, params.broker))
  // Connected while the other checks run: the observations only subscribe, trigger and wait.
  await Promise.all(brokers.map((b) => ctx.clients.broker.connect(b, ctx.signal)))
  // First beside the other checks (once the comparing ones have ended: the trigger writes), telling the
  // trigger's messages from theirs by identifiers; when that cannot be told, alone: a capture sees every
  // message on its channels, another check's orders too.
  const observeAll = async (beside: boolean): Promise<Observed | Unclear> => {
    let candidate: Observation | TriggerFailure | Unclear
    let primary: Observation | TriggerFailure | Unclear | undefined
    if (wantBaseline && keptApart(brokers[0]!, brokers[1]!)) {
      // Each side's trigger changes only its own state and its messages reach only its own broker (or its
      // own prefix, virtual host or database of a shared one): both sides at once.
      ;[candidate, primary] = await settled(
        observe(ctx, 'candidate', params, beside),
        observe(ctx, 'baseline', params, beside),
      )
    } else {
      // One broker for both: one side at a time, so a capture never counts the other side's messages.
      candidate = await observe(ctx, 'candidate', params, beside)
      if (wantBaseline && !isFailure(candidate) && !isUnclear(candidate))
        primary = await observe(ctx, 'baseline', params, beside)
    }
    if (isUnclear(candidate)) return candidate
    if (primary && isUnclear(primary)) return primary
    // Once the comparison will be made: the noise a warm session learned from this same baseline, else the
    // baseline a second time, one run after the other — what differs between its two runs is noise.
    let noise: EventNoise | TriggerFailure | undefined
    if (primary && !isFailure(primary) && !isFailure(candidate)) {
      noise = ctx.memory?.get<EventNoise>(noiseKey)
      if (!noise) {
        const secondary = await observe(ctx, 'baseline', params, beside)
        if (isUnclear(secondary)) return secondary
        noise = isFailure(secondary) ? secondary : learnNoise(channels, primary.messages, secondary.messages)
        if (!isFailure(noise)) ctx.memory?.set(noiseKey, noise)
      }
    }
    return { candidate, primary, noise }
  }
  let observed: Observed | Unclear | undefined
  if (ctx.afterComparisons) {
    await ctx.afterComparisons()
    observed = await observeAll(true)
    if (isUnclear(observed)) ctx.progress(`observing again, alone: ${observed.unclear}`)
  }
  if (!observed || isUnclear(observed)) {
    const alone = await ctx.measure({ resources: [], cores: 1 }, () => observeAll(false))
    // Alone, every message counts: nothing is unclear.
    if (isUnclear(alone)) throw new Error(alone.unclear)
    observed = alone
  }
  const { candidate, primary, noise } = observed
  if (isFailure(candidate)) return reportTrigger(ctx, candidate)
  // With a comparison, the candidate's failed expectations wait for it: one finding per root cause.
  const held: ReportDescriptor[] = []
  const sink = (d: ReportDescriptor) => (wantBaseline ? held.push(d) : ctx.report(d))
  params.expect.forEach((e, i) => assertExpect(sink, e, schemas[i], candidate))
  const flush = (list: readonly ReportDescriptor[] = held) => list.forEach((d) => ctx.report(d))

  if (!primary) return
  if (isFailure(primary)) return (flush(), reportTrigger(ctx, primary))
  if (!noise || isFailure(noise)) return (flush(), noise && reportTrigger(ctx, noise))
  const changes = compareMessages({
    channels,
    primary: primary.messages,
    noise,
    candidate: candidate.messages,
    ignore,
  })
  const causes = channelRootCauses(held, changes)
  flush(causes.kept)
  for (const change of changes) {
    const shown = change.message ?? candidate.messages.find((m) => m.channel === change.channel)
    const baselineMessage = primary.messages.find((m) => channelMatches(change.channel, m.channel))
    ctx.report({
      messageId: change.messageId,
      severity: causes.severity.get(change) ?? change.severity,
      data: change.data,
      ...(change.pointer ? { pointer: change.pointer } : {}),
      ...sentenceValues(change.messageId, change.baseline, change.candidate),
      evidence: messageEvidence(candidate, change.channel, shown, baselineMessage),
    })
  }
}

/**
 * The candidate's failed expectations a change of the same channel explains (a removed field its schema
 * requires, a field whose type changed), left out; the change is as severe as what it explains.
 */
function channelRootCauses(
  held: readonly ReportDescriptor[],
  changes: readonly MessageChange[],
): { kept: ReportDescriptor[]; severity: Map<MessageChange, MessageChange['severity']> } {
  const explained = new Set<ReportDescriptor>()
  const severity = new Map<MessageChange, MessageChange['severity']>()
  for (const channel of new Set(changes.map((c) => c.channel))) {
    // The whole payload is `(payload)` in a change's message and `` in a schema finding's pointer.
    const own = changes
      .filter((c) => c.channel === channel)
      .map((c) => ({
        change: c,
        messageId: c.messageId,
        severity: c.severity,
        pointer: bodyPointer(c.pointer),
      }))
    const mine = held.filter((d) => d.data?.channel === channel)
    const causes = rootCauses(mine, own)
    for (const d of mine) if (!causes.kept.includes(d)) explained.add(d)
    for (const [c, e] of causes.explained) severity.set(c.change, e.severity)
  }
  return { kept: held.filter((d) => !explained.has(d)), severity }
}

function bodyPointer(pointer: string | undefined): string {
  return pointer === undefined || pointer === '(payload)' ? '' : pointer
}

/** Both results once both have settled (neither side's capture is left open); the first error thrown, if any. */
async function settled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b])
  if (x.status === 'rejected') throw x.reason
  if (y.status === 'rejected') throw y.reason
  return [x.value, y.value]
}

function isFailure(o: Observation | EventNoise | TriggerFailure | Unclear): o is TriggerFailure {
  return 'failed' in o
}

function isUnclear<T extends object>(o: T | Unclear): o is Unclear {
  return 'unclear' in o
}

/** A check's observations: the candidate's, the baseline's, and what differs between two baseline runs. */
interface Observed {
  candidate: Observation | TriggerFailure
  primary?: Observation | TriggerFailure
  noise?: EventNoise | TriggerFailure
}

function reportTrigger(ctx: EventContext, failure: TriggerFailure): void {
  ctx.report({
    messageId: 'trigger',
    data: { trigger: failure.trigger, sandbox: `${failure.sandbox.name} sandbox`, detail: failure.detail },
    evidence: evidence({
      transport: 'broker',
      sandbox: failure.sandbox.name,
      summary: [{ label: 'trigger', value: `${failure.trigger} (${failure.sandbox.name})` }],
      reproduce: failure.reproduce,
    }),
  })
}

/** Reports channels the AsyncAPI document does not have; false when there are any. */
function channelsKnown(ctx: EventContext, params: EventParams, doc: AsyncApiDocument): boolean {
  const named = [
    ...params.expect.map((e) => e.channel),
    ...('publish' in params.trigger ? [params.trigger.publish.channel] : []),
  ]
  let ok = true
  for (const channel of new Set(named)) {
    if (doc.channels.some((c) => channelMatches(channel, c) || channelMatches(c, channel))) continue
    ok = false
    const best = doc.channels.length ? closest(channel, doc.channels) : undefined
    const hint =
      best && distance(channel, best) <= Math.max(2, Math.floor(best.length / 3))
        ? ` (did you mean "${best}"?)`
        : ''
    ctx.report({
      messageId: 'unknown-channel',
      data: { channel, document: doc.file, known: doc.channels.join(', ') || 'none', hint },
    })
  }
  return ok
}

async function compileSchema(
  ctx: EventContext,
  expect: EventExpect,
  params: EventParams,
  asyncapi: AsyncApiDocument | undefined,
): Promise<{ compiled: CompiledSchema; label: string } | undefined> {
  if (!expect.schema) return undefined
  const [file = '', fragment = ''] = expect.schema.split('#')
  const absolute = path.resolve(ctx.plan.dir, file)
  const pointer = decodeURIComponent(fragment)
  const sameAsAsyncApi = params.asyncapi && path.resolve(ctx.plan.dir, params.asyncapi) === absolute
  const doc = sameAsAsyncApi ? asyncapi! : await schemaRegistry.loadFile(absolute, file, ctx.plan.fileRoots)
  if (!sameAsAsyncApi && !('asyncapi' in (doc as { document: Record<string, unknown> }).document)) {
    return {
      compiled: schemaRegistry.compile(doc as Parameters<typeof schemaRegistry.compile>[0], pointer),
      label: expect.schema,
    }
  }
  const api = sameAsAsyncApi ? asyncapi! : await loadAsyncApi(absolute, file)
  const schema = messageSchema(api, pointer)
  if (!schema) throw new Error(`${expect.schema}: no message or schema at #${pointer}`)
  const id = `vigil:asyncapi/${createHash('sha256').update(`${absolute}#${pointer}`).digest('hex').slice(0, 16)}`
  return {
    compiled: schemaRegistry.compile(schemaRegistry.fromObject(id, expect.schema, schema)),
    label: expect.schema,
  }
}

function assertExpect(
  sink: (d: ReportDescriptor) => void,
  expect: EventExpect,
  schema: { compiled: CompiledSchema; label: string } | undefined,
  seen: Observation,
): void {
  const messages = seen.messages.filter((m) => channelMatches(expect.channel, m.channel))
  const within = formatElapsed(expect.within !== undefined ? parseDuration(expect.within) : 2_000)
  const report = (descriptor: ReportDescriptor, message?: BrokerMessage) =>
    sink({ ...descriptor, evidence: messageEvidence(seen, expect.channel, message) })
  const count = expect.count ?? { gte: 1 }
  const failures =
    typeof count === 'number'
      ? messages.length === count
        ? []
        : [{ expected: count }]
      : checkAssertion({ found: true, value: messages.length }, count)
  if (failures.length > 0) {
    const expected = typeof count === 'number' ? String(count) : describeCount(count)
    report(
      {
        messageId: 'count',
        data: { channel: expect.channel, expected, within, actual: messages.length },
        expected: count,
        actual: messages.length,
      },
      messages[0],
    )
  }
  messages.forEach((message, i) => {
    const index = String(i + 1)
    if (schema) {
      for (const v of validateValue(schema.compiled, message.payload, 5)) {
        report(
          {
            messageId: 'schema',
            data: {
              channel: expect.channel,
              index,
              pointer: v.pointer || '(payload)',
              detail: v.message,
              schema: schema.label,
            },
            pointer: v.pointer,
            expected: v.expected,
            actual: v.actual,
          },
          message,
        )
      }
    }
    const checks = Object.entries(expect.json ?? {})
    if (checks.length && !message.json) {
      report(
        {
          messageId: 'not-json',
          data: { channel: expect.channel, index, excerpt: formatValue(message.text.slice(0, 80)) },
        },
        message,
      )
      return
    }
    for (const [pointer, assertion] of checks) {
      for (const f of checkAssertion(select(message.payload, pointer), assertion)) {
        report(
          {
            messageId: 'json',
            data: { channel: expect.channel, index, pointer, detail: f.message },
            pointer,
            expected: f.expected,
            actual: f.actual,
          },
          message,
        )
      }
    }
  })
}

function describeCount(count: Record<string, unknown>): string {
  return Object.entries(count)
    .map(([op, v]) => `${op} ${String(v)}`)
    .join(', ')
}

/** Evidence of what a side's broker carried on a channel: the trigger, the capture, one message, a reproduce line. */
function messageEvidence(
  seen: Observation,
  channel: string,
  message?: BrokerMessage,
  baseline?: BrokerMessage,
) {
  const onChannel = seen.messages.filter((m) => channelMatches(channel, m.channel))
  const others = [...new Set(seen.messages.map((m) => m.channel))].filter((c) => !channelMatches(channel, c))
  const summary = [
    { label: 'trigger', value: `${seen.trigger} (${seen.sandbox.name})` },
    { label: 'broker', value: `${seen.endpoint.kind} ${seen.endpoint.url} — ${seen.endpoint.isolation}` },
    {
      label: 'captured',
      value: `${onChannel.length} message(s) on ${channel} in ${formatElapsed(seen.windowMs)}${others.length ? `; also on ${others.slice(0, 5).join(', ')}` : ''}`,
    },
  ]
  if (seen.before)
    summary.push({
      label: 'before the trigger',
      value: `${seen.before.messages} message(s) set aside, from earlier work; ${seen.before.silent ? `the channels were then silent (after ${formatElapsed(seen.before.waitedMs)})` : `the channels were still not silent after ${formatElapsed(seen.before.waitedMs)}: something else publishes on them, and may be counted`}`,
    })
  if (message)
    summary.push({
      label: 'message',
      value: `${message.key} at +${message.atMs}ms, ${message.bytes} bytes${Object.keys(message.headers).length ? `, headers ${JSON.stringify(message.headers)}` : ''}`,
    })
  if (baseline) summary.push({ label: 'baseline', value: excerptOf(baseline).slice(0, 300) })
  return evidence({
    transport: 'broker',
    sandbox: seen.sandbox.name,
    summary,
    ...(message ? { excerpt: { label: 'payload', text: excerptOf(message) } } : {}),
    reproduce: seen.reproduce(channel),
    details: {
      channel,
      broker: seen.endpoint.name,
      messages: onChannel.slice(0, 5).map((m) => ({
        channel: m.channel,
        key: m.key,
        atMs: m.atMs,
        headers: m.headers,
        payload: m.payload,
      })),
    },
  })
}

function excerptOf(message: BrokerMessage): string {
  const text = message.json ? JSON.stringify(message.payload, null, 2) : message.text
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text
}
