/**
 * Times that are evidence (message log, audit log, ceremonies) are shown the same way everywhere and for everyone:
 * `2026-11-22 22:59:14 UTC`, matching the server's logs and the transcripts.
 */
export function formatTime(value: string | number | Date): string {
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) return String(value)
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}
