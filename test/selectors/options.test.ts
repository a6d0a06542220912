import { describe, expect, it } from 'vitest'
import { resolveSelector } from '../../selectors/index.js'

describe('resolveSelector', () => {
  it('defaults to rules without a key and hybrid with one, saying which', () => {
    expect(resolveSelector({ env: {} })).toMatchObject({ selector: 'rules', choice: 'default: no API key' })
    const withKey = resolveSelector({ env: { ANTHROPIC_API_KEY: 'k' } })
    expect(withKey).toMatchObject({ selector: 'hybrid', choice: 'default: API key present' })
    expect(withKey.options).toMatchObject({
      apiKey: 'k',
      model: 'claude-sonnet-5-5',
      threshold: 0.2,
      maxRetries: 2,
      timeoutMs: 60_000,
      deadlineMs: 60_000,
    })
  })

  it('takes flags over the environment over the config', () => {
    const config = {
      default: 'rules',
      model: 'from-config',
      baseURL: 'http://config',
      threshold: 0.5,
      timeout: '5s',
      apiKeyEnv: 'MY_KEY',
    }
    const env = { MY_KEY: 'k2', VIGIL_MODEL: 'from-env', ANTHROPIC_BASE_URL: 'http://env' }
    const fromConfig = resolveSelector({ config, env: {} })
    expect(fromConfig).toMatchObject({ selector: 'rules', choice: 'config selector.default' })
    expect(fromConfig.options).toMatchObject({
      model: 'from-config',
      baseURL: 'http://config',
      threshold: 0.5,
      timeoutMs: 5000,
    })
    expect(fromConfig.options.apiKey).toBeUndefined()
    const fromEnv = resolveSelector({ config, env })
    expect(fromEnv.options).toMatchObject({ model: 'from-env', baseURL: 'http://env', apiKey: 'k2' })
    const fromFlags = resolveSelector({
      config,
      env,
      flags: { selector: 'llm', model: 'from-flag', threshold: 0.1 },
    })
    expect(fromFlags).toMatchObject({
      selector: 'llm',
      choice: '--selector',
      options: { model: 'from-flag', threshold: 0.1 },
    })
  })

  it('uses the cache folder unless disabled', () => {
    expect(resolveSelector({ env: {}, defaultCacheDir: '/c' }).options.cacheDir).toBe('/c')
    expect(
      resolveSelector({ env: {}, defaultCacheDir: '/c', flags: { cacheDir: '/d' } }).options.cacheDir,
    ).toBe('/d')
    expect(
      resolveSelector({ env: {}, defaultCacheDir: '/c', flags: { cache: false } }).options.cacheDir,
    ).toBeUndefined()
    expect(
      resolveSelector({ env: {}, defaultCacheDir: '/c', config: { cache: false } }).options.cacheDir,
    ).toBeUndefined()
  })

  it('rejects bad config and flags with the location first', () => {
    expect(() => resolveSelector({ env: {}, config: { treshold: 1 } })).toThrow(
      /^vigil\.config\.yaml: selector\.treshold: unknown property; expected one of /,
    )
    expect(() => resolveSelector({ env: {}, config: { default: 'magic' } })).toThrow(
      /selector\.default must be one of hybrid, llm, rules/,
    )
    expect(() => resolveSelector({ env: {}, config: { timeout: 'soon' } })).toThrow(
      /selector\.timeout: invalid duration "soon"/,
    )
    expect(() => resolveSelector({ env: {}, flags: { selector: 'magic' } })).toThrow(
      /^--selector magic: expected one of/,
    )
    expect(() => resolveSelector({ env: {}, flags: { threshold: 2 } })).toThrow(/^--threshold 2/)
  })

  it('takes the selection deadline from --selector-deadline over selector.deadline, and refuses bad ones', () => {
    expect(resolveSelector({ env: {}, config: { deadline: '90s' } }).options.deadlineMs).toBe(90_000)
    expect(resolveSelector({ env: {}, config: { deadline: 1500 } }).options.deadlineMs).toBe(1500)
    expect(
      resolveSelector({ env: {}, config: { deadline: '90s' }, flags: { deadline: '5s' } }).options.deadlineMs,
    ).toBe(5000)
    expect(() => resolveSelector({ env: {}, config: { deadline: 'soon' } })).toThrow(
      /^vigil\.config\.yaml: selector\.deadline: invalid duration "soon"/,
    )
    expect(() => resolveSelector({ env: {}, config: { deadline: '0s' } })).toThrow(
      /selector\.deadline: expected a duration above zero/,
    )
    expect(() => resolveSelector({ env: {}, config: { deadline: true } })).toThrow(
      /selector\.deadline must be a duration such as 60s/,
    )
    expect(() => resolveSelector({ env: {}, flags: { deadline: 'x' } })).toThrow(
      expect.objectContaining({ code: 'VIGIL_USAGE', exitCode: 2 }),
    )
    expect(() => resolveSelector({ env: {}, flags: { deadline: 'x' } })).toThrow(/^--selector-deadline x: /)
  })
})
