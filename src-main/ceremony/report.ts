import type { Transcript, TranscriptVerification } from './transcript'

/**
 * The printable report: every step with its actor, confirmations, details and artifact fingerprints, the seal key's
 * fingerprint, the verification verdict, and signature lines for each participant (print to PDF from any browser).
 */
function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A detail value as a person reads it: lists joined by commas, objects as `key: value` pairs. */
function detailText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(detailText).join(', ')
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${detailText(v)}`).join('; ')
  return String(value)
}

/** The reason's code and parameters repeat `reason` for screens in other languages; the report prints `reason`. */
const CODED_REASON = new Set(['reasonCode', 'reasonParams'])

function groupHex(hex: string): string {
  return hex.replace(/(.{4})/g, '$1 ').trim()
}

export function renderTranscriptReport(transcript: Transcript, verification: TranscriptVerification): string {
  const names = new Map(transcript.participants.map((p) => [p.id, `${p.name} (${p.role})`]))
  const rows = transcript.entries
    .map(
      (e) => `<tr class="${e.outcome}">
  <td>${e.seq}</td><td>${escapeHtml(e.at)}</td>
  <td><strong>${escapeHtml(e.title)}</strong><br><code>${escapeHtml(e.step)}</code>${e.outcome === 'done' ? '' : ` <em>${escapeHtml(e.outcome)}</em>`}</td>
  <td>${escapeHtml(names.get(e.actor) ?? e.actor)}${e.confirmedBy.length ? `<br>confirmed by ${e.confirmedBy.map((c) => escapeHtml(names.get(c.participant) ?? c.participant)).join(', ')}` : ''}</td>
  <td>${Object.entries(e.details).filter(([k]) => !CODED_REASON.has(k)).map(([k, v]) => `<div><span class="k">${escapeHtml(k)}</span> ${escapeHtml(detailText(v))}</div>`).join('')}
      ${e.artifacts.map((a) => `<div class="artifact">${escapeHtml(a.name)} (${a.size} bytes)<br><code>SHA-256 ${groupHex(a.sha256)}</code></div>`).join('')}</td>
  <td><code>${e.hash.slice(0, 16)}…</code></td>
</tr>`,
    )
    .join('\n')
  const seal = transcript.seal
  const verdict = verification.valid
    ? '<p class="ok">Verified: the chain of entries is intact and the seal signature is valid.</p>'
    : `<p class="bad">NOT VALID:</p><ul>${verification.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ceremony transcript: ${escapeHtml(transcript.ceremony.title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}h1{font-size:18pt;margin-bottom:0}table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #999;padding:4px 6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}table{table-layout:fixed}th:nth-child(1){width:2em}th:nth-child(2){width:9em}th:nth-child(3){width:12em}th:nth-child(4){width:11em}th:nth-child(6){width:9em}th{background:#eee}tr.refused td{background:#fde8e8}
tr.warning td{background:#fff6da}code{font:9pt ui-monospace,monospace}.k{color:#555}.artifact{margin-top:4px}.ok{color:#0a6b2d;font-weight:bold}
.bad{color:#a00;font-weight:bold}.sign{display:grid;grid-template-columns:1fr 1fr;gap:2.5em 3em;margin-top:2em}.line{border-top:1px solid #000;padding-top:4px}
@media print{body{margin:1cm}tr{page-break-inside:avoid}}
</style></head><body>
<h1>${escapeHtml(transcript.ceremony.title)}</h1>
<p>Ceremony ${escapeHtml(transcript.ceremony.id)} (${escapeHtml(transcript.ceremony.kind)} ceremony), started ${escapeHtml(transcript.ceremony.startedAt)}.
${transcript.entries.length} recorded steps.</p>
${verdict}
<h2>Participants</h2><ul>${transcript.participants.map((p) => `<li>${escapeHtml(p.name)}: ${escapeHtml(p.role)}</li>`).join('')}</ul>
<h2>Steps</h2>
<table><thead><tr><th>#</th><th>Time (UTC)</th><th>Step</th><th>People</th><th>Details and artifacts</th><th>Entry hash</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Seal</h2>
${seal ? `<p>Sealed ${escapeHtml(seal.sealedAt)} with ${escapeHtml(seal.algorithm)}, key at ${escapeHtml(seal.keyLocation)}.<br>
Seal key fingerprint (SHA-256 of the public key): <code>${groupHex(seal.publicKeyFingerprint)}</code><br>
Last entry hash: <code>${groupHex(seal.signedHash)}</code></p>` : '<p class="bad">Not sealed.</p>'}
<p>Each participant confirms by signing that this report matches what they witnessed, including the seal key fingerprint above.</p>
<div class="sign">${transcript.participants.map((p) => `<div><div style="height:3em"></div><div class="line">${escapeHtml(p.name)}, ${escapeHtml(p.role)} — signature and date</div></div>`).join('')}</div>
</body></html>
`
}
