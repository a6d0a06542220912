/**
 * The layers of vigil's source and what each may import: imports only go down (DESIGN.md, STYLE.md).
 *
 *   plans/ → selectors/ → reporters/ (the verdict's types only)
 *   engine: shared services (errors, lifecycle, the verdict, HTTP, clients, processes, Kubernetes client)
 *     → api/ (what plug-ins import)
 *     → kinds/<kind>/, sandboxes/<provider>/, dependencies/<kind>/, executors/<executor>/ (plug-ins: each
 *       imports its own folder, the api and the shared services, never another plug-in)
 *     → the registries (kinds/index.ts, sandboxes/index.ts, dependencies/index.ts, executors/index.ts)
 *     → run/ → cli/, mcp/, ci/, dev/ (the warm session the CLI and the MCP server share)
 *
 * Playwright keeps such rules in a DEPS.list per folder; here they are one table, checked by the local
 * rule `vigil/layers` on every import, export-from and dynamic import with a relative path, types
 * included: a type import is a dependency too, and the next refactoring turns it into a value import.
 * A local rule rather than a plugin: the table is the whole policy, it needs no resolver for the `.js`
 * specifiers of TypeScript sources (only the folder matters), and its message names the rule of the layer.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.dirname(fileURLToPath(import.meta.url))

/**
 * Where a file belongs, first match wins. `unit` names the plug-in a file is part of (a kind, a provider,
 * a dependency kind, an executor): a plug-in may import its own unit and nothing of another.
 */
export const LAYERS = [
  { layer: 'plans', test: /^plans\// },
  { layer: 'selectors', test: /^selectors\// },
  { layer: 'reporters', test: /^reporters\// },
  { layer: 'verdict', test: /^engine\/verdict\.[jt]s$/ },
  { layer: 'api', test: /^engine\/api\// },
  { layer: 'kinds', test: /^engine\/kinds\/index\.[jt]s$/ },
  { layer: 'kind', test: /^engine\/kinds\/([^/]+)\// },
  { layer: 'sandboxes', test: /^engine\/sandboxes\/index\.[jt]s$/ },
  { layer: 'provider', test: /^engine\/sandboxes\/([^/]+)\// },
  { layer: 'sandbox-machinery', test: /^engine\/sandboxes\/[^/]+$/ },
  { layer: 'dependencies', test: /^engine\/dependencies\/index\.[jt]s$/ },
  { layer: 'dependency', test: /^engine\/dependencies\/([^/]+)\// },
  { layer: 'dependency-machinery', test: /^engine\/dependencies\/[^/]+$/ },
  { layer: 'executors', test: /^engine\/executors\/index\.[jt]s$/ },
  { layer: 'executor', test: /^engine\/executors\/([^/]+)\// },
  { layer: 'run', test: /^engine\/run\// },
  { layer: 'app', test: /^engine\/(?:cli|mcp|ci|dev)\// },
  { layer: 'shared', test: /^engine\// },
]

const BELOW_PLUGINS = ['api', 'shared', 'verdict', 'plans']
const PLUGINS = ['kinds', 'kind', 'sandboxes', 'provider', 'sandbox-machinery', 'dependencies', 'dependency']
const PLUGINS_ALL = [...PLUGINS, 'dependency-machinery', 'executors', 'executor']

/** What each layer may import, and the sentence the error gives. `own` marks a plug-in's own folder. */
export const RULES = {
  plans: { may: ['plans'], why: 'plans/ is the lowest layer and imports nothing else of vigil' },
  selectors: { may: ['selectors', 'plans'], why: 'selectors/ imports only plans/' },
  reporters: {
    may: ['reporters', 'verdict', 'plans'],
    why: 'reporters/ imports only the verdict types (engine/verdict.ts) and helpers of plans/',
  },
  verdict: { may: ['verdict'], why: 'engine/verdict.ts holds only the verdict types' },
  shared: {
    may: ['shared', 'verdict', 'plans', 'reporters'],
    why: 'the shared services of engine/ sit below engine/api/ and every plug-in',
  },
  api: { may: ['api', ...BELOW_PLUGINS], why: 'engine/api/ imports only the shared services below it' },
  kind: {
    may: ['own', ...BELOW_PLUGINS],
    why: 'a check kind imports its own folder, engine/api/ and the shared services; never another kind, a provider, an executor or the run',
  },
  kinds: { may: ['kind', 'api'], why: 'the kind registry lists the kinds' },
  provider: {
    may: ['own', 'sandbox-machinery', ...BELOW_PLUGINS],
    why: 'a sandbox provider imports its own folder, the sandbox machinery of engine/sandboxes/, engine/api/ and the shared services; never another provider, a kind, an executor or the run',
  },
  'sandbox-machinery': {
    may: ['sandbox-machinery', ...BELOW_PLUGINS],
    why: 'the sandbox machinery serves every provider and imports none of them (the registry hands them in)',
  },
  sandboxes: {
    may: ['provider', 'sandbox-machinery', 'dependencies', ...BELOW_PLUGINS],
    why: 'the provider registry (it starts sessions, which start the dependency kinds it hands in)',
  },
  dependency: {
    may: ['own', 'dependency-machinery', 'sandbox-machinery', ...BELOW_PLUGINS],
    why: 'a dependency kind imports its own folder, the shared machinery, engine/api/ and the shared services; never another dependency kind, a kind, a provider or the run',
  },
  'dependency-machinery': {
    may: ['dependency-machinery', 'sandbox-machinery', ...BELOW_PLUGINS],
    why: 'the dependency machinery serves every dependency kind and imports none of them',
  },
  dependencies: {
    may: ['dependency', 'dependency-machinery', ...BELOW_PLUGINS],
    why: 'the dependency registry',
  },
  executor: {
    may: ['own', ...BELOW_PLUGINS],
    why: 'an executor imports its own folder, engine/api/ and the shared services; never a kind, a provider or the run',
  },
  executors: { may: ['executor', ...BELOW_PLUGINS], why: 'the executor registry' },
  run: {
    may: [
      'run',
      'kinds',
      'sandboxes',
      'dependencies',
      'executors',
      ...BELOW_PLUGINS,
      'selectors',
      'reporters',
    ],
    why: 'the run imports the registries (engine/kinds/index.ts, engine/sandboxes/index.ts, engine/executors/index.ts), engine/api/ and the shared services, never a plug-in directly',
  },
  app: {
    may: ['app', 'run', ...PLUGINS_ALL, ...BELOW_PLUGINS, 'selectors', 'reporters'],
    why: 'the CLI, the MCP server and the CI gate sit on top',
  },
}

/** The layer (and plug-in unit) of a repository-relative path; undefined outside the checked folders. */
export function layerOf(relative) {
  for (const { layer, test } of LAYERS) {
    const match = test.exec(relative)
    if (match) return { layer, unit: match[1] }
  }
  return undefined
}

/** Why `from` may not import `to` (repository-relative paths), or undefined when it may. */
export function violation(from, to) {
  const source = layerOf(from)
  const target = layerOf(to)
  if (!source || !target) return undefined
  const rule = RULES[source.layer]
  const own = source.unit !== undefined && source.layer === target.layer && source.unit === target.unit
  return rule.may.includes(own ? 'own' : target.layer) ? undefined : rule.why
}

function check(context, node, specifier) {
  if (typeof specifier !== 'string' || !specifier.startsWith('.')) return
  const file = context.filename ?? context.getFilename()
  const from = path.relative(ROOT, file).split(path.sep).join('/')
  if (from.startsWith('..')) return
  const to = path
    .relative(ROOT, path.resolve(path.dirname(file), specifier))
    .split(path.sep)
    .join('/')
  const why = violation(from, to)
  if (why) context.report({ node, messageId: 'layer', data: { from, to, why } })
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports only go down the layers of vigil (see eslint.layers.js).' },
    schema: [],
    messages: { layer: '{{from}} may not import {{to}}: {{why}} (layer rule, eslint.layers.js).' },
  },
  create(context) {
    const source = (node) => node.source && check(context, node.source, node.source.value)
    return {
      ImportDeclaration: source,
      ExportNamedDeclaration: source,
      ExportAllDeclaration: source,
      ImportExpression: (node) => node.source.type === 'Literal' && check(context, node, node.source.value),
      TSImportType: (node) => {
        const arg = node.argument?.literal ?? node.argument
        if (arg?.type === 'Literal') check(context, node, arg.value)
      },
    }
  },
}

export const layersPlugin = { rules: { layers: layersRule } }
