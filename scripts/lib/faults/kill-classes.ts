import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { closeDatabase, openDatabase } from '../../../src-main/platform'
import type { ClassContext } from './fault-context'
import { MESSAGE_LOG_FILE, acknowledgeEvidence, describeProblems, evidence, flipByte, fullEvidenceCheck, missingFrom, loggedQueries, walBackfilled, walFrames } from './fault-evidence'
import type { Side } from './fault-pair'
import type { Outcome } from './fault-load'
import type { EvidenceContinuity } from '@shared/admin-api/admin-api'

/**
 * kill-provider / kill-consumer: `kill -9` of one `gatehouse serve` process at a random moment under load, restart.
 * Every message the information system got a 2xx for must have its request and response records in both message
 * logs; a kill loses nothing acknowledged, so the server's evidence check must find nothing (a report is a false
 * alarm); the other server, never restarted, must carry traffic again once its peer is back.
 */
export async function killClass(ctx: ClassContext, side: Side): Promise<void> {
  const server = ctx.server(side)
  const reported: EvidenceContinuity[] = []
  ctx.startLoad()
  try {
    if ((await ctx.waitForTraffic(Date.now() - 1000, 60_000)) === undefined) throw new Error('no traffic before the first kill')
    for (let trial = 1; trial <= ctx.sizes.killTrials; trial++) {
      await ctx.pause(ctx.between(300, 2500))
      const killedAt = Date.now()
      await server.kill9()
      await server.start()
      const e = await evidence(server.admin())
      reported.push(e)
      if (e.state !== 'ok') {
        ctx.fail(`${side} kill ${trial}: the evidence check reports ${describeProblems(e)} after a kill -9 that should lose nothing acknowledged`)
        if (e.refusing) await acknowledgeEvidence(server.admin(), `fault harness: kill -9 trial ${trial} (false alarm under investigation)`)
      }
      const flowing = await ctx.waitForTraffic(Date.now(), 60_000)
      ctx.report.trials++
      if (flowing === undefined) ctx.fail(`${side} kill ${trial}: no traffic within 60 s of the restart (refusals ${ctx.refusalsSince(killedAt)}; ${await ctx.describeServers()})`)
      else ctx.report.recoveredWithoutRestart++
      ctx.log(`  ${side} kill ${trial}/${ctx.sizes.killTrials}: down ${Math.round(((flowing ?? Date.now()) - killedAt) / 100) / 10} s, evidence ${e.state}, ${ctx.acknowledged().length} acknowledged so far`)
    }
    await ctx.pause(500)
  } finally {
    await ctx.stopLoad()
  }
  const lost = ctx.lostPerSide(ctx.acknowledged())
  for (const s of ['consumer', 'provider'] as const) {
    const final = await fullEvidenceCheck(ctx.server(s).admin())
    if (s === side) reported.push(final)
    if (final.state !== 'ok') ctx.fail(`${s}: the final full evidence check reports ${describeProblems(final)}`)
  }
  countLoss(ctx, lost, (s) => (s === side ? reported.some((r) => r.state === 'problem') : false))
}

/** Adds the lost messages per side; those on a side whose server reported no problem are also undetected. */
function countLoss(ctx: ClassContext, lost: Record<Side, Outcome[]>, reportedOn: (side: Side) => boolean): void {
  const all = new Set([...lost.consumer, ...lost.provider].map((o) => o.queryId))
  ctx.report.lost += all.size
  for (const s of ['consumer', 'provider'] as const) {
    if (lost[s].length === 0) continue
    ctx.fail(`${lost[s].length} acknowledged message(s) lack records in the ${s}'s message log, e.g. ${lost[s].slice(0, 3).map((o) => o.queryId).join(', ')}`)
    if (!reportedOn(s)) ctx.report.undetected += lost[s].length
  }
}

/**
 * wal-corruption: kill -9 under load, one bit flipped in a frame in the middle of messagelog.sqlite-wal (SQLite's
 * recovery then drops that frame and every later one, acknowledged records with them), restart. Every acknowledged
 * message SQLite dropped must be reported by the server as missing (and traffic refused until an administrator
 * acknowledges it, then flow again without a restart).
 *
 * db-corruption: kill -9 under load, the log checkpointed, one bit flipped inside a logged body in messagelog.sqlite
 * (which `PRAGMA integrity_check` does not see), restart: the server's full check at start must report that record
 * as altered.
 */
export async function corruptionClass(ctx: ClassContext, kind: 'wal' | 'db'): Promise<void> {
  const lostBySide: Record<Side, Outcome[]> = { consumer: [], provider: [] }
  ctx.startLoad()
  try {
    if ((await ctx.waitForTraffic(Date.now() - 1000, 60_000)) === undefined) throw new Error('no traffic before the first corruption')
    let attempts = 0
    while (ctx.report.trials < ctx.sizes.corruptionTrials) {
      if (++attempts > ctx.sizes.corruptionTrials * 4) {
        ctx.fail(`only ${ctx.report.trials} of ${ctx.sizes.corruptionTrials} corruptions could be made in ${attempts - 1} attempts`)
        break
      }
      const side: Side = attempts % 2 === 1 ? 'provider' : 'consumer'
      const server = ctx.server(side)
      await ctx.pause(ctx.between(1200, 3000))
      const killedAt = Date.now()
      await server.kill9()
      const dbPath = join(server.dataDir, MESSAGE_LOG_FILE)
      const used = new Set([...lostBySide.consumer, ...lostBySide.provider].map((o) => o.marker))
      const corrupted = kind === 'wal' ? flipWalFrame(dbPath, ctx.random) : flipLoggedBody(dbPath, ctx.acknowledged(killedAt).filter((o) => !used.has(o.marker)), ctx.random)
      await server.start()
      if (corrupted === undefined) {
        ctx.log(`  ${side}: nothing to corrupt this time (${kind === 'wal' ? 'no WAL frames that no checkpoint can have copied' : 'no body found'}), trying again`)
        continue
      }
      ctx.report.trials++
      const trial = ctx.report.trials
      // A message in flight at the kill may still be acknowledged to the information system after it (the killed
      // server had logged and answered it): it belongs to this trial, so its answer is awaited before counting.
      if (!(await ctx.waitForAnswers(killedAt, 30_000))) ctx.note(`${kind} corruption ${trial}: requests sent before the kill were still unanswered after 30 s`)
      const before = ctx.acknowledged().filter((o) => o.sentAtMs < killedAt)
      // The records this corruption took from the acknowledged ones (for a body flip: the one altered).
      const logged = loggedQueries(server.dataDir)
      // What this corruption took (not the losses of earlier trials on this side, acknowledged already).
      const known = new Set(lostBySide[side].map((o) => o.queryId))
      const dropped = (kind === 'wal' ? missingFrom(before, logged) : before.filter((o) => o.marker === corrupted)).filter((o) => !known.has(o.queryId))
      lostBySide[side].push(...dropped)
      // The full check the server starts with: waited for to its end, as an administrator would before acknowledging
      // (what it finds is reported at once, but a problem the walk finds later is a new one to acknowledge).
      const e = await waitForFullCheck(ctx, side)
      const detected = e.state === 'problem'
      if (dropped.length > 0 && !detected) {
        ctx.report.undetected += dropped.length
        ctx.fail(`${kind} corruption ${trial} on the ${side}: ${dropped.length} acknowledged message(s) lost or altered and the server reports nothing`)
      } else if (kind === 'wal') {
        // Every record the harness finds gone must be inside the ranges the server reports missing.
        const gone = dropped.reduce((n, o) => n + (logged.get(o.queryId ?? '')?.request === true ? 0 : 1) + (logged.get(o.queryId ?? '')?.response === true ? 0 : 1), 0)
        const reported = e.problems.filter((p) => !p.acknowledged && p.kind === 'missing').reduce((n, p) => n + (p.lastSeq ?? 0) - (p.firstSeq ?? 0) + 1, 0)
        if (reported < gone) {
          ctx.report.undetected += Math.ceil((gone - reported) / 2)
          ctx.fail(`${kind} corruption ${trial} on the ${side}: ${gone} acknowledged record(s) gone, the server reports ${reported} missing`)
        }
      }
      if (kind === 'wal' && dropped.length === 0) {
        // The flipped frame held nothing acknowledged (e.g. a WAL just restarted by a checkpoint): not a trial of the
        // class; the server may still report records it acknowledged to itself, which are acknowledged here.
        ctx.report.trials--
        ctx.log(`  ${side}: the flipped WAL frame (${corrupted}) dropped nothing acknowledged (server reports ${describeProblems(e)}); trying again`)
        if (e.refusing) await acknowledgeEvidence(server.admin(), `fault harness: ${kind} corruption attempt ${attempts}`)
        if ((await ctx.waitForTraffic(Date.now(), 60_000)) === undefined) throw new Error(`no traffic after ${kind} corruption attempt ${attempts}`)
        continue
      }
      if (dropped.length === 0 && detected) ctx.note(`${kind} corruption ${trial} on the ${side}: nothing acknowledged was lost, the server reports ${describeProblems(e)}`)
      if (e.refusing) {
        const refused = await ctx.waitForRefusal(Date.now(), 10_000)
        if (refused !== undefined && !/logging_failed/.test(refused.code)) ctx.note(`refusal while evidence is lost: ${refused.code}`)
        await acknowledgeEvidence(server.admin(), `fault harness: ${kind} corruption trial ${trial}`)
      }
      const acknowledgedAt = Date.now()
      const flowing = await ctx.waitForTraffic(acknowledgedAt, 60_000)
      if (flowing === undefined) {
        ctx.fail(`${kind} corruption ${trial} on the ${side}: no traffic within 60 s after the loss was acknowledged (refusals ${ctx.refusalsSince(acknowledgedAt)}; ${await ctx.describeServers()})`)
      }
      else ctx.report.recoveredWithoutRestart++
      ctx.log(`  ${kind} corruption ${trial}/${ctx.sizes.corruptionTrials} on the ${side} (${corrupted}): ${dropped.length} acknowledged lost/altered, server reports ${detected ? describeProblems(e) : 'nothing'}, traffic ${flowing === undefined ? 'did not resume' : `resumed ${((flowing - acknowledgedAt) / 1000).toFixed(1)} s after the acknowledgement`}`)
    }
  } finally {
    await ctx.stopLoad()
  }
  ctx.report.lost += new Set([...lostBySide.consumer, ...lostBySide.provider].map((o) => o.queryId)).size
}

/**
 * The evidence state once the full check the (re)started server runs has finished (it is the process's first: its
 * `lastFullCheckAt` is null until then); after 120 s a full check is asked for and awaited instead.
 */
async function waitForFullCheck(ctx: ClassContext, side: Side): Promise<EvidenceContinuity> {
  const admin = ctx.server(side).admin()
  const deadline = Date.now() + 120_000
  for (;;) {
    const e = await evidence(admin)
    if (e.lastFullCheckAt !== null && !e.checking) return e
    if (Date.now() > deadline) return fullEvidenceCheck(admin)
    await ctx.pause(250)
  }
}

/** SQLite's default `wal_autocheckpoint`: a commit that leaves the WAL this many frames long starts a checkpoint. */
const AUTO_CHECKPOINT_FRAMES = 1000

/**
 * Flips a bit in the page of a frame early in the part of the WAL's current generation no checkpoint can have copied
 * into the database file; a description, or undefined when there is no such part (too short, or the generation is
 * long enough for an automatic checkpoint to have started: one killed mid-way has copied pages without recording it
 * in the WAL index). Only there does SQLite's recovery do what the class is about — drop that frame and every later
 * one. A frame already copied is no longer the only copy of its page: SQLite then reads older pages from the WAL
 * and newer ones from the file, B-trees that no longer join ("database disk image is malformed" on every commit), a
 * damaged database rather than a lost WAL tail (the server reports it, `message-log.ts` `noteDamagedDatabase`).
 */
function flipWalFrame(dbPath: string, random: () => number): string | undefined {
  const wal = `${dbPath}-wal`
  const { pageSize, frames } = walFrames(wal)
  if (frames.length >= AUTO_CHECKPOINT_FRAMES) return undefined
  const backfilled = Math.min(walBackfilled(wal), frames.length)
  const open = frames.length - backfilled
  if (open < 8) return undefined
  const index = backfilled + Math.floor(open * (0.1 + random() * 0.3))
  flipByte(wal, (frames[index] as number) + 24 + Math.floor(pageSize / 2))
  return `WAL frame ${index + 1} of ${frames.length}${backfilled > 0 ? `, ${backfilled} checkpointed` : ''}`
}

/**
 * Checkpoints the log (as the next start would), then flips a bit inside the body of one acknowledged message in
 * messagelog.sqlite; the marker of the message, or undefined when no body was found once in the file.
 */
function flipLoggedBody(dbPath: string, acknowledged: readonly Outcome[], random: () => number): string | undefined {
  const db = openDatabase(dbPath)
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    closeDatabase(db)
  }
  const bytes = readFileSync(dbPath)
  for (let tries = 0; tries < 20 && acknowledged.length > 0; tries++) {
    const o = acknowledged[Math.floor(random() * acknowledged.length)] as Outcome
    const marker = Buffer.from(`${o.marker}|`, 'latin1')
    const at = bytes.indexOf(marker)
    if (at < 0) continue
    flipByte(dbPath, at + marker.length + 40)
    return o.marker
  }
  return undefined
}
