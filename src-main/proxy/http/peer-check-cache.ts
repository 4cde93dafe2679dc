/**
 * Issue 15 §2 "peer checks are per connection": the server proxy's checks of a consumer's TLS client certificate
 * (xroad-protocols.md §4.3 `verifySslClientCert`: chain to an approved CA, good and fresh OCSP responses, the
 * certificate registered for a server of the client) decided once per TLS connection and reused by its later requests
 * while every input of the decision is the same: the same configuration object and generation, the same client, the
 * same certificate chain and the same OCSP response bytes, and a time inside the window the decision holds for (no
 * certificate expired, no OCSP response past its freshness). Anything else decides again; a failed check is never
 * kept, so a refusal is always re-examined.
 */
export interface PeerCheckInputs {
  /** The configuration the decision read (global configuration in force); another object decides again. */
  conf: object
  /** The client the request names (encoded identifier). */
  client: string
  chain: readonly Uint8Array[]
  ocspResponses: readonly Uint8Array[]
}

interface PeerDecision extends PeerCheckInputs {
  generation: number
  /** The decision holds for times in [verifiedAtMs, validUntilMs]. */
  verifiedAtMs: number
  validUntilMs: number
}

export interface PeerCheckStats {
  /** Requests answered by their connection's earlier decision. */
  reused: number
  /** Full checks made. */
  checked: number
}

export class PeerCheckCache {
  private readonly decisions = new WeakMap<object, PeerDecision>()
  private generation = 0
  readonly stats: PeerCheckStats = { reused: 0, checked: 0 }

  /**
   * Passes when `connection` holds a decision for exactly these inputs valid at `nowMs`; otherwise runs `check`, which
   * throws when the peer fails or returns until when (ms) its success holds, and keeps that for the connection.
   */
  async verify(connection: object | undefined, inputs: PeerCheckInputs, nowMs: number, check: () => Promise<number> | number): Promise<void> {
    if (connection !== undefined) {
      const held = this.decisions.get(connection)
      if (held !== undefined && this.holds(held, inputs, nowMs)) {
        this.stats.reused++
        return
      }
      this.decisions.delete(connection)
    }
    const generation = this.generation
    this.stats.checked++
    const validUntilMs = await check()
    // A change that arrived while the check ran leaves nothing behind: the next request decides again.
    if (connection !== undefined && generation === this.generation) {
      const copy = (list: readonly Uint8Array[]): Uint8Array[] => list.map((bytes) => Uint8Array.from(bytes))
      this.decisions.set(connection, { ...inputs, chain: copy(inputs.chain), ocspResponses: copy(inputs.ocspResponses), generation, verifiedAtMs: nowMs, validUntilMs })
    }
  }

  /** Forgets every decision (configuration changed: the live runtime re-derives). */
  invalidate(): void {
    this.generation++
  }

  private holds(held: PeerDecision, inputs: PeerCheckInputs, nowMs: number): boolean {
    return held.generation === this.generation && held.conf === inputs.conf && held.client === inputs.client
      && nowMs >= held.verifiedAtMs && nowMs <= held.validUntilMs
      && sameBytesList(held.chain, inputs.chain) && sameBytesList(held.ocspResponses, inputs.ocspResponses)
  }
}

function sameBytesList(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0)
}
