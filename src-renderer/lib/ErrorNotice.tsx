import { Alert, Code, Text } from '@mantine/core'
import { describeError } from './error-messages'

/** An error in words, with what to do and the code for support. */
export function ErrorNotice({ error, onClose }: { error: unknown; onClose?: () => void }) {
  const { title, text, code } = describeError(error)
  return (
    <Alert color="red" title={title} role="alert" withCloseButton={onClose !== undefined} onClose={onClose} closeButtonLabel="Dismiss error">
      <Text size="sm">{text}</Text>
      <Text size="xs" c="dimmed" mt={4}>
        Code for support: <Code>{code}</Code>
      </Text>
    </Alert>
  )
}
