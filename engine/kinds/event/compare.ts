/**
 * The candidate's messages against the baseline's, per channel, with the body comparison of
 * engine/api/comparison/: the baseline is triggered twice, and what differs between its two runs is noise
 * (learned once per warm session: `learnNoise` gives what the comparison needs of the second run).
 * Breaking: a field removed or renamed, a type change, a field that became null, a message no longer sent
 * (and a channel renamed, when the candidate sent on a new channel instead). Information: a new field, a new
 * channel. Warnings: a changed value or count that the two baseline runs agree on.
 */
import { diffJson, type DifferenceGroup } from '../../api/comparison/diff.js'
import { PointerMatcher } from '../../api/comparison/ignore.js'
import { renameTarget } from '../../api/comparison/rename.js'
import { describeValue, jsonType } from '../../api/values.js'
import type { BrokerMessage } from '../../clients/index.js'
import type { Severity } from '../../verdict.js'
import { channelMatches } from './observe.js'

export interface MessageChange {
  messageId: string
  severity: Severity
  channel: string
  pointer?: string
  baseline?: unknown
  candidate?: unknown
  data: Record<string, string>
  /** The candidate's message the change was seen in, for the evidence. */
  message?: BrokerMessage
}

export interface CompareInput {
  channels: readonly string[]
  primary: readonly BrokerMessage[]
  /** What differed between two baseline runs of the trigger (`learnNoise`). */
  noise: EventNoise
  candidate: readonly BrokerMessage[]
  ignore: readonly string[]
}

/** Per expected channel: whether two baseline runs sent as many messages, and the paths that differed in each. */
export interface EventNoise {
  channels: Record<string, { sameCount: boolean; paths: string[][] }>
}

/** The noise of two baseline runs of the same trigger: plain data, kept by a warm session between iterations. */
export function learnNoise(
  channels: readonly string[],
  primary: readonly BrokerMessage[],
  secondary: readonly BrokerMessage[],
): EventNoise {
  const noise: EventNoise = { channels: {} }
  for (const channel of channels) {
    const b = on(primary, channel)
    const b2 = on(secondary, channel)
    noise.channels[channel] = {
      sameCount: b.length === b2.length,
      paths: b
        .slice(0, b2.length)
        .map((m, i) => diffJson(m.payload, b2[i]!.payload, { examples: 0 }).map((g) => g.path)),
    }
  }
  return noise
}

function on(list: readonly BrokerMessage[], channel: string): BrokerMessage[] {
  return list.filter((m) => channelMatches(channel, m.channel))
}

export function compareMessages(input: CompareInput): MessageChange[] {
  const out: MessageChange[] = []
  const expected = (channel: string) => input.channels.some((c) => channelMatches(c, channel))
  const baselineChannels = new Set(input.primary.map((m) => m.channel))
  const fresh = [...new Set(input.candidate.map((m) => m.channel))]
    .filter((c) => !baselineChannels.has(c) && !expected(c))
    .sort()
  const renamedTo = new Set<string>()
  for (const channel of input.channels) {
    const b = on(input.primary, channel)
    const noise = input.noise.channels[channel] ?? { sameCount: false, paths: [] }
    const c = on(input.candidate, channel)
    if (b.length > 0 && c.length === 0) {
      const target = fresh.find((f) => similarShape(b[0]!.payload, on(input.candidate, f)[0]?.payload))
      if (target) renamedTo.add(target)
      out.push({
        messageId: 'no-longer-sent',
        severity: 'error',
        channel,
        baseline: b.length,
        candidate: 0,
        data: {
          channel,
          baseline: String(b.length),
          renamed: target
            ? `; it sent ${on(input.candidate, target).length} on ${target} instead (channel renamed?)`
            : '',
        },
      })
      continue
    }
    if (b.length !== c.length && noise.sameCount && c.length > 0) {
      out.push({
        messageId: 'count-changed',
        severity: 'warning',
        channel,
        baseline: b.length,
        candidate: c.length,
        data: { channel, baseline: String(b.length), candidate: String(c.length) },
      })
    }
    const seen = new Set<string>()
    for (let i = 0; i < Math.min(b.length, c.length); i++) {
      const ignore = [...input.ignore, ...(noise.paths[i] ?? [])]
      const groups = diffJson(b[i]!.payload, c[i]!.payload, {
        ignore: ignore.length ? new PointerMatcher(ignore) : undefined,
      })
      for (const change of classify(channel, groups, c[i]!)) {
        const key = `${change.messageId} ${change.pointer}`
        if (seen.has(key)) continue
        seen.add(key)
        out.push(change)
      }
    }
  }
  for (const channel of fresh) {
    if (renamedTo.has(channel)) continue
    const count = on(input.candidate, channel).length
    out.push({
      messageId: 'new-channel',
      severity: 'info',
      channel,
      candidate: count,
      data: { channel, count: String(count) },
    })
  }
  return out
}

function classify(channel: string, groups: DifferenceGroup[], message: BrokerMessage): MessageChange[] {
  const out: MessageChange[] = []
  const renamed = new Set<DifferenceGroup>()
  for (const group of groups) {
    const example = group.examples[0]
    const pointer = example?.pointer || '(payload)'
    const b = example?.baseline
    const c = example?.candidate
    const where = group.count > 1 ? ` (${group.count} places)` : ''
    const base = { channel, pointer, baseline: b, candidate: c, message }
    const data = { channel, pointer, where, baseline: describeValue(b), candidate: describeValue(c) }
    switch (group.kind) {
      case 'removed': {
        const target = renameTarget(group, groups)
        if (target) renamed.add(target)
        const rename = target ? `; the candidate has ${target.examples[0]?.pointer ?? target.path}` : ''
        out.push({ ...base, messageId: 'field-removed', severity: 'error', data: { ...data, rename } })
        break
      }
      case 'type':
        if (c === null) out.push({ ...base, messageId: 'became-null', severity: 'error', data })
        else if (b === null) out.push({ ...base, messageId: 'value-changed', severity: 'warning', data })
        else
          out.push({
            ...base,
            messageId: 'type-changed',
            severity: 'error',
            data: { ...data, from: jsonType(b), to: jsonType(c) },
          })
        break
      case 'value':
      case 'length':
        out.push({ ...base, messageId: 'value-changed', severity: 'warning', data })
        break
      case 'added':
        break
    }
  }
  for (const group of groups) {
    if (group.kind !== 'added' || renamed.has(group)) continue
    const example = group.examples[0]
    const pointer = example?.pointer ?? group.path
    out.push({
      messageId: 'field-added',
      severity: 'info',
      channel,
      pointer,
      candidate: example?.candidate,
      message,
      data: { channel, pointer, where: group.count > 1 ? ` (${group.count} places)` : '' },
    })
  }
  return out
}

/** Two payloads of the same shape: the same top-level field names (or both not objects of the same type). */
function similarShape(a: unknown, b: unknown): boolean {
  if (b === undefined) return false
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return jsonType(a) === jsonType(b)
  const ka = Object.keys(a).sort().join(',')
  const kb = Object.keys(b).sort().join(',')
  return ka === kb
}
