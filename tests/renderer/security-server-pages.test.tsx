// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AnchorPreview, Diagnostics, InitializationStatus, SettingDto } from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { initialFirstRun, ownerProblem, useFirstRunStore } from '../../src-renderer/features/first-run/first-run-store'
import { settingProblem } from '../../src-renderer/features/settings/settings-store'
import { shortId } from '../../src-renderer/features/services/services-store'
import { trafficRows } from '../../src-renderer/features/diagnostics/diagnostics-store'
import { expiryText } from '../../src-renderer/features/keys/keys-store'

/** Stores and form rules of the security-server pages, with a fake admin client. */
function fakeClient(call: (domain: string, method: string, ...args: unknown[]) => Promise<unknown>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

afterEach(() => {
  setAdminClient(undefined)
  useFirstRunStore.setState(initialFirstRun)
})

const preview: AnchorPreview = { instance: 'LAB', hash: 'AB:CD', generatedAt: null, sources: ['http://127.0.0.1:1/internalconf'] }
const joined: InitializationStatus = { initialized: true, owner: 'MEMBER:LAB/GOV/1', serverCode: 'SS1', serverId: 'SERVER:LAB/GOV/1/SS1', anchor: { instance: 'LAB', hash: 'AB:CD', storedAt: '' }, softwareTokenInitialized: true }

describe('first-run wizard store', () => {
  it('checks the anchor, then initializes with the confirmed hash and the PIN', async () => {
    const call = vi.fn(async (domain: string, method: string) => (method === 'importAnchor' ? preview : method === 'initialize' ? joined : undefined))
    setAdminClient(fakeClient(call))
    const store = useFirstRunStore.getState()
    store.setAnchorXml('<configurationAnchor/>')
    expect(await store.checkAnchor()).toBe(true)
    expect(useFirstRunStore.getState()).toMatchObject({ step: 'confirm', owner: 'LAB/' })
    useFirstRunStore.getState().setIdentity('LAB/GOV/1', ' SS1 ')
    expect(await useFirstRunStore.getState().finish('1234pin')).toBe(true)
    expect(call).toHaveBeenLastCalledWith('initialization', 'initialize', { anchorXml: '<configurationAnchor/>', confirmedHash: 'AB:CD', owner: 'LAB/GOV/1', serverCode: 'SS1', softwareTokenPin: '1234pin' })
    expect(useFirstRunStore.getState().step).toBe('done')
  })

  it('keeps the error and stays on the step when the server refuses', async () => {
    setAdminClient(fakeClient(async () => Promise.reject(new AdminError('malformed_anchor', 'not an anchor'))))
    useFirstRunStore.getState().setAnchorXml('junk')
    expect(await useFirstRunStore.getState().checkAnchor()).toBe(false)
    expect(useFirstRunStore.getState().step).toBe('anchor')
    expect((useFirstRunStore.getState().error as AdminError).code).toBe('malformed_anchor')
  })

  it('explains a wrong owner', () => {
    expect(ownerProblem('LAB/GOV', 'LAB')).toMatch(/INSTANCE\/CLASS\/CODE/)
    expect(ownerProblem('EE/GOV/1', 'LAB')).toMatch(/instance LAB/)
    expect(ownerProblem('LAB/GOV/1', 'LAB')).toBeNull()
  })
})

describe('form rules', () => {
  const integer: SettingDto = { name: 'x', label: 'X', description: '', kind: 'integer', unit: 'days', min: 0, max: 10, defaultValue: '1', value: '1', isDefault: true }
  it('validates settings like the server does', () => {
    expect(settingProblem(integer, '5')).toBeNull()
    expect(settingProblem(integer, 'five')).toEqual({ key: 'whole' })
    expect(settingProblem(integer, '11')).toEqual({ key: 'max', max: 10 })
    expect(settingProblem(integer, '-1')).toEqual({ key: 'min', min: 0 })
    expect(settingProblem({ ...integer, kind: 'boolean' }, 'yes')).toEqual({ key: 'onOff' })
  })

  it('shows identifiers in their short form', () => {
    expect(shortId('SUBSYSTEM:LAB/GOV/1/SUB')).toBe('LAB/GOV/1/SUB')
  })

  it('turns traffic points into chart rows and expiry into words', () => {
    const result = { traffic: { bucketSeconds: 60, succeeded: 3, failed: 1, points: [{ at: '2026-01-01T10:00:00Z', succeeded: 3, failed: 1 }] } } as Diagnostics
    expect(trafficRows(result)).toEqual([{ at: Date.parse('2026-01-01T10:00:00Z'), succeeded: 3, failed: 1 }])
    expect(trafficRows(null)).toEqual([])
    expect(expiryText(-2)).toBe('expired 2 days ago')
    expect(expiryText(12)).toBe('expires in 12 days')
  })
})
