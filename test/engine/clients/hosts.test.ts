import { describe, expect, it } from 'vitest'
import { isAllowedHost, isLoopbackHost } from '../../../engine/clients/hosts.js'

describe('hosts', () => {
  it.each([
    ['localhost', true],
    ['api.localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['128.0.0.1', false],
  ])('isLoopbackHost(%s) = %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })

  it.each([
    ['http://127.0.0.1:8080', [], true],
    ['http://[::1]:8080', [], true],
    ['https://staging.example.com', [], false],
    ['https://staging.example.com', ['staging.example.com'], true],
    ['https://STAGING.example.com', ['staging.example.com'], true],
    ['https://a.staging.example.com', ['*.staging.example.com'], true],
    ['https://staging.example.com', ['*.staging.example.com'], false],
    ['http://203.0.113.7:8080', ['203.0.113.7:8080'], true],
    ['http://203.0.113.7:9090', ['203.0.113.7:8080'], false],
    ['https://evil.com', ['example.com'], false],
  ])('isAllowedHost(%s, %j) = %s', (url, allow, expected) => {
    expect(isAllowedHost(new URL(url), allow)).toBe(expected)
  })
})
