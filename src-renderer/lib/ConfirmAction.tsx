import { useState, type ReactNode } from 'react'
import { Button, Group, Modal, Stack, Text, TextInput, type ButtonProps } from '@mantine/core'
import { useT } from '../i18n'
import { ErrorNotice } from './ErrorNotice'
import { useReadOnly } from './read-only'

/**
 * A destructive action that asks first: the dialog names what is destroyed and who is affected (`consequences`),
 * and for the gravest actions asks to type the object's name (`typeToConfirm`). A refusal by the server is shown in
 * the dialog, so the person sees why nothing happened. On a cluster's secondary node it is hidden (the shared
 * configuration is read-only there) unless it acts on the node's own state (`perNode`).
 */
export interface ConfirmActionProps {
  /** The button that opens the dialog. */
  label: ReactNode
  /** Accessible name of that button when `label` alone is ambiguous (e.g. "Delete service weather"). */
  ariaLabel?: string
  title: string
  /** What will be destroyed or lost, and who loses access: shown as the dialog's body. */
  consequences: ReactNode
  confirmLabel: string
  onConfirm(): Promise<unknown>
  /** The name the person must type to enable the confirm button. */
  typeToConfirm?: string
  buttonProps?: ButtonProps
  disabled?: boolean
  /** Acts on this node's own state (users, restart…), so it stays on a cluster's secondary node. */
  perNode?: boolean
}

export function ConfirmAction(props: ConfirmActionProps) {
  const t = useT()
  const [opened, setOpened] = useState(false)
  const [typed, setTyped] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const close = (): void => {
    setOpened(false)
    setTyped('')
    setError(null)
  }
  const confirm = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await props.onConfirm()
      close()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  const readOnly = useReadOnly()
  const blocked = props.typeToConfirm !== undefined && typed.trim() !== props.typeToConfirm
  if (readOnly && props.perNode !== true) return null
  return (
    <>
      <Button size="xs" variant="subtle" color="red" {...props.buttonProps} disabled={props.disabled} aria-label={props.ariaLabel} onClick={() => setOpened(true)}>
        {props.label}
      </Button>
      <Modal opened={opened} onClose={close} title={props.title} centered>
        <Stack gap="sm">
          <div>{props.consequences}</div>
          {props.typeToConfirm !== undefined ? (
            <TextInput
              label={t('confirm.typeToConfirm', { name: props.typeToConfirm })}
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              autoComplete="off"
            />
          ) : null}
          {error !== null ? <ErrorNotice error={error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>{t('actions.cancel')}</Button>
            <Button color="red" loading={busy} disabled={blocked} onClick={() => void confirm()}>{props.confirmLabel}</Button>
          </Group>
        </Stack>
      </Modal>
    </>
  )
}

/** A short list of consequences for the dialog body. */
export function Consequences({ items }: { items: ReactNode[] }) {
  return (
    <Stack gap={4}>
      {items.map((item, i) => <Text key={i} size="sm">{item}</Text>)}
    </Stack>
  )
}
