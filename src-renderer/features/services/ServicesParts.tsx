import { Fragment } from 'react'
import { Badge, Text, type MantineColor } from '@mantine/core'
import type { ClientStateValue } from '@shared/admin-api/admin-api'
import { hasTranslation, translate, useT } from '../../i18n'
import { AdminError } from '../../lib/admin-client'
import { isWholeService, shortId, type EndpointRef } from './services-store'

/** Pieces every panel of the Clients and services screen uses. */

const STATE_COLORS: Record<ClientStateValue, MantineColor> = {
  SAVED: 'gray', REGISTRATION_IN_PROGRESS: 'blue', REGISTERED: 'green', DISABLED: 'orange', DELETION_IN_PROGRESS: 'red',
}

/** A badge that never truncates its words: it grows, and wraps in a narrow cell. */
export const FULL_BADGE = {
  root: { maxWidth: 'none', height: 'auto', minHeight: 'var(--badge-height)' },
  label: { overflow: 'visible', textOverflow: 'clip', whiteSpace: 'normal' as const, lineHeight: 1.25, paddingBlock: 2 },
}

export function ClientStateBadge({ state }: { state: ClientStateValue }) {
  const t = useT('services')
  return <Badge variant="light" color={STATE_COLORS[state]} styles={FULL_BADGE}>{t(`state.${state}`)}</Badge>
}

/** The words for an access-right subject: groups are named in the person's language, clients by name and path. */
export function useSubjectName(): (r: { subjectKind: string; subject: string; subjectLabel: string }) => string {
  const t = useT('services')
  return (r) => r.subjectKind === 'LOCALGROUP' ? t('access.localGroupName', { code: shortId(r.subject) })
    : r.subjectKind === 'GLOBALGROUP' ? t('access.globalGroupName', { group: shortId(r.subject) })
      : r.subjectLabel
}

/** `whole service`, or the endpoint's method and path. */
export function EndpointText({ endpoint }: { endpoint: EndpointRef }) {
  const t = useT('services')
  if (isWholeService(endpoint)) return <Text size="sm" span>{t('endpoints.wholeService')}</Text>
  return <Text size="sm" ff="monospace" span style={{ overflowWrap: 'anywhere' }}>{`${endpoint.method} ${endpoint.path}`}</Text>
}

/**
 * An identifier in path form that wraps after a slash when its cell is narrow (and anywhere only as a last resort), so a
 * long one never widens the table past the screen.
 */
export function IdText({ id, dimmed }: { id: string; dimmed?: boolean }) {
  const parts = shortId(id).split('/')
  return (
    <Text size={dimmed ? 'xs' : 'sm'} c={dimmed ? 'dimmed' : undefined} ff="monospace" style={{ overflowWrap: 'anywhere' }}>
      {parts.map((part, i) => (i === 0 ? part : <Fragment key={i}>/<wbr />{part}</Fragment>))}
    </Text>
  )
}

/**
 * The message to show at one form field: the server names the field in `detail`; a code this screen explains
 * (`services:fieldErrors.<code>`) is said in the person's language, otherwise the server's own message.
 */
export function fieldMessage(error: unknown, field: string): string | undefined {
  if (!(error instanceof AdminError) || error.detail !== field) return undefined
  const key = `services:fieldErrors.${error.code.split('.').at(-1) ?? error.code}`
  return hasTranslation(key) ? translate(key, { reason: error.message }) : error.message
}

/** True when the error is shown at one of these fields, so no banner repeats it. */
export function atField(error: unknown, fields: readonly string[]): boolean {
  return error instanceof AdminError && error.detail !== undefined && fields.includes(error.detail)
}
