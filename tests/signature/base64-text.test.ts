import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base64Of } from '../../src-main/signature'

/**
 * base64Of reads the text of signature and hash-chain elements without a cleaned copy when it holds only the alphabet,
 * padding and ASCII white space: it must accept and decode exactly what the definition accepts — the text with all
 * white space removed is canonical base64 (RFC 4648 §3.5: it encodes back to itself).
 */

function reference(text: string): Buffer | 'refused' {
  const clean = text.replace(/\s+/g, '')
  const bytes = Buffer.from(clean, 'base64')
  return bytes.toString('base64') === clean ? bytes : 'refused'
}

function actual(text: string): Buffer | 'refused' {
  try {
    return base64Of(text)
  } catch (error) {
    expect((error as { faultCode?: string }).faultCode).toBe('malformed_signature')
    return 'refused'
  }
}

const SPACES = [' ', '\t', '\n', '\r', '\r\n', '\u00a0', '\v', '\f', '\u2028']
const NOISE = ['=', '==', '!', '-', '_', '&', 'A', '\u00e9', '']

describe('base64 text of signature elements', () => {
  it('accepts and decodes exactly the canonical encodings, white space anywhere', () => {
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let round = 0; round < 4000; round++) {
      let text = randomBytes(random(40)).toString('base64')
      // White space between any characters, as Santuario's line wrapping and pretty printers put it.
      for (let k = random(4); k > 0; k--) {
        const at = random(text.length + 1)
        text = text.slice(0, at) + SPACES[random(round % 3 === 0 ? SPACES.length : 5)]! + text.slice(at)
      }
      // Every other round one change that may break it: a symbol, padding or a character outside the alphabet.
      if (round % 2 === 1) {
        const at = random(text.length + 1)
        const cut = random(2)
        text = text.slice(0, at) + NOISE[random(NOISE.length)]! + text.slice(at + cut)
      }
      const expected = reference(text)
      const got = actual(text)
      expect(got === 'refused' ? got : got.toString('hex'), JSON.stringify(text)).toBe(expected === 'refused' ? expected : expected.toString('hex'))
    }
  })

  it('refuses non-zero unused bits and misplaced padding with white space around them', () => {
    for (const text of ['QR==', 'QUJ=', 'QQ=\n=', 'Q Q = = ', 'QQ==QQ==', 'QQ===', '=QQ=', 'QUJD\r\nRA==\r\nQQ==', 'QUJ\n']) {
      expect(actual(text), JSON.stringify(text)).toEqual(reference(text))
    }
    // The symbol before the padding, every one of the alphabet: only zero unused bits are canonical.
    for (const symbol of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
      for (const text of [`Q${symbol}==`, `QU${symbol}=`, `QUJD\r\nQ${symbol}\r\n==`, ` QU ${symbol} = `]) {
        expect(actual(text), JSON.stringify(text)).toEqual(reference(text))
      }
    }
    expect(actual(' QUJD\r\n RE VG\t')).toEqual(Buffer.from('ABCDEF'))
    expect(actual('QQ=\r\n=')).toEqual(Buffer.from('A'))
  })

  it('reads long white space and long invalid text in linear time', () => {
    const spaces = ' '.repeat(200_000)
    expect(actual(`QUJD${spaces}!`)).toBe('refused')
    expect(actual(`QUJD${spaces}QQ=${spaces}`)).toBe('refused')
    expect(actual(`${'QUJD\r\n'.repeat(50_000)}QQ==`)!.length).toBe(150_001)
  })
})
