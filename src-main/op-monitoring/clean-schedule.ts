/**
 * `op-monitor.clean-interval`: when operational monitoring records past `op-monitor.keep-records-for-days` are
 * deleted, as X-Road's Quartz cron expression (default `0 0 0/12 1/1 * ? *`: at 00:00 and 12:00 every day;
 * op-monitor.ini). Fields: seconds, minutes, hours, day of month, month, day of week, optional year; each `*`, `?`
 * (day fields), a value, a range `a-b`, a step `a/n`, `*`/n` or `a-b/n`, or a comma list of those; months JAN–DEC and
 * days SUN–SAT by name (Quartz numbers days 1 = SUN … 7 = SAT). Quartz's `L`, `W` and `#` are not supported and
 * refused. Times are the server's local time, as the Quartz scheduler reads them.
 *
 * Complexity: parsing is linear in the expression (at most {@link MAX_EXPRESSION_LENGTH} characters); `nextAfter`
 * visits at most {@link SEARCH_DAYS} days, and per matching day at most 24 × 60 × 60 field values.
 */
export const DEFAULT_CLEAN_INTERVAL = '0 0 0/12 1/1 * ? *'
const MAX_EXPRESSION_LENGTH = 200
const SEARCH_DAYS = 366 * 5

export interface CleanSchedule {
  readonly expression: string
  /** The first firing time strictly after `after`, or undefined when none comes within five years. */
  nextAfter(after: Date): Date | undefined
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

export class CronError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CronError'
  }
}

function field(text: string, min: number, max: number, names: readonly string[], nameBase: number, allowAny: boolean): ReadonlySet<number> | 'any' {
  if (text === '*' || (allowAny && text === '?')) return 'any'
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase())
    if (named >= 0) return named + nameBase
    if (!/^\d{1,4}$/.test(token)) throw new CronError(`'${token.slice(0, 20)}' is not a value`)
    const n = Number(token)
    if (n < min || n > max) throw new CronError(`${n} is outside ${min}–${max}`)
    return n
  }
  const out = new Set<number>()
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined]
    const step = stepText === undefined ? 1 : Number(stepText)
    if (stepText !== undefined && (!/^\d{1,4}$/.test(stepText) || step < 1)) throw new CronError(`'${part.slice(0, 20)}' has a bad step`)
    let from: number
    let to: number
    if (range === '*') [from, to] = [min, max]
    else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string]
      ;[from, to] = [value(a), value(b)]
    } else {
      from = value(range)
      to = stepText === undefined ? from : max
    }
    if (to < from) throw new CronError(`range '${range.slice(0, 20)}' runs backwards`)
    for (let n = from; n <= to; n += step) out.add(n)
  }
  return out
}

function matches(set: ReadonlySet<number> | 'any', n: number): boolean {
  return set === 'any' || set.has(n)
}

/** @throws CronError when the expression is not one this reader supports */
export function parseCleanInterval(expression: string): CleanSchedule {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new CronError('the expression is too long')
  const parts = expression.trim().split(/\s+/)
  if (parts.length !== 6 && parts.length !== 7) throw new CronError('a Quartz cron expression has 6 or 7 fields')
  const [s, m, h, dom, mon, dow, year] = parts as [string, string, string, string, string, string, string | undefined]
  const seconds = field(s, 0, 59, [], 0, false)
  const minutes = field(m, 0, 59, [], 0, false)
  const hours = field(h, 0, 23, [], 0, false)
  const daysOfMonth = field(dom, 1, 31, [], 0, true)
  const months = field(mon, 1, 12, MONTHS, 1, false)
  const daysOfWeek = field(dow, 1, 7, DAYS, 1, true)
  const years = year === undefined ? 'any' : field(year, 1970, 2199, [], 0, false)
  const first = (set: ReadonlySet<number> | 'any', from: number, max: number): number | undefined => {
    for (let n = from; n <= max; n++) if (matches(set, n)) return n
    return undefined
  }
  return {
    expression,
    nextAfter(after) {
      const start = new Date(after.getTime() + 1000 - (after.getTime() % 1000))
      const day = new Date(start.getFullYear(), start.getMonth(), start.getDate())
      for (let i = 0; i < SEARCH_DAYS; i++, day.setDate(day.getDate() + 1)) {
        if (!matches(years, day.getFullYear()) || !matches(months, day.getMonth() + 1)) continue
        if (!matches(daysOfMonth, day.getDate()) || !matches(daysOfWeek, day.getDay() + 1)) continue
        const sameDay = i === 0
        for (let hour = first(hours, sameDay ? start.getHours() : 0, 23); hour !== undefined; hour = first(hours, hour + 1, 23)) {
          const sameHour = sameDay && hour === start.getHours()
          for (let minute = first(minutes, sameHour ? start.getMinutes() : 0, 59); minute !== undefined; minute = first(minutes, minute + 1, 59)) {
            const sameMinute = sameHour && minute === start.getMinutes()
            const second = first(seconds, sameMinute ? start.getSeconds() : 0, 59)
            if (second !== undefined) return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour, minute, second)
          }
        }
      }
      return undefined
    },
  }
}
