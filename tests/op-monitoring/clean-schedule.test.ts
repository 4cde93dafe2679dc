import { describe, expect, it } from 'vitest'
import { CronError, DEFAULT_CLEAN_INTERVAL, parseCleanInterval } from '../../src-main/op-monitoring'

/** Local times, as Quartz reads cron expressions in the server's time zone. */
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): Date => new Date(y, mo - 1, d, h, mi, s)

describe('op-monitor.clean-interval (Quartz cron)', () => {
  it("X-Road's default fires at 00:00 and 12:00 every day", () => {
    const schedule = parseCleanInterval(DEFAULT_CLEAN_INTERVAL)
    expect(schedule.nextAfter(at(2026, 11, 22, 9, 30))).toEqual(at(2026, 11, 22, 12))
    expect(schedule.nextAfter(at(2026, 11, 22, 12))).toEqual(at(2026, 11, 23, 0))
    expect(schedule.nextAfter(at(2026, 12, 31, 23, 59, 59))).toEqual(at(2027, 1, 1, 0))
  })

  it('reads values, ranges, steps, lists and month and day names', () => {
    expect(parseCleanInterval('30 15 2 ? * MON-FRI').nextAfter(at(2026, 11, 21, 3))).toEqual(at(2026, 11, 23, 2, 15, 30))
    expect(parseCleanInterval('0 */20 * * * ?').nextAfter(at(2026, 11, 22, 9, 41))).toEqual(at(2026, 11, 22, 10, 0))
    expect(parseCleanInterval('0 0 6 1,15 FEB ? 2027').nextAfter(at(2026, 11, 22))).toEqual(at(2027, 2, 1, 6))
    expect(parseCleanInterval('0 0 0 29 2 ?').nextAfter(at(2026, 3, 1))).toEqual(at(2028, 2, 29))
    expect(parseCleanInterval('0 0 0 1 1 ? 2020').nextAfter(at(2026, 1, 1))).toBeUndefined()
  })

  it.each([
    ['too few fields', '0 0 12 * *'],
    ['a value out of range', '0 60 * * * ?'],
    ["Quartz's L", '0 0 0 L * ?'],
    ['a backwards range', '0 0 10-2 * * ?'],
    ['a zero step', '0 0/0 * * * ?'],
    ['a name where numbers belong', '0 0 MON * * ?'],
  ])('refuses %s', (_name, expression) => {
    expect(() => parseCleanInterval(expression)).toThrow(CronError)
  })
})
