import { networkInterfaces, hostname, type, release, arch } from 'node:os'

/**
 * The machine a ceremony runs on: whether it is offline (no non-loopback interface up) and what it is, for the
 * transcript. An air-gapped machine is the practice for key generation (reliability-and-security.md §4.4).
 */
export interface OfflineCheck {
  offline: boolean
  /** Interfaces with a non-loopback address, as `name address`. */
  interfacesUp: string[]
}

export function checkOffline(interfaces = networkInterfaces()): OfflineCheck {
  const up: string[] = []
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const address of addresses ?? []) if (!address.internal) up.push(`${name} ${address.address}`)
  }
  return { offline: up.length === 0, interfacesUp: up }
}

export function describeMachine(): Record<string, string> {
  return { hostname: hostname(), os: `${type()} ${release()}`, arch: arch(), node: process.version }
}
