import { Alert, Code, Text } from '@mantine/core'
import { useT } from '../i18n'
import { describeError } from './error-messages'

/** An error in words, with what to do and the code for support. */
export function ErrorNotice({ error, onClose }: { error: unknown; onClose?: () => void }) {
  const t = useT('common', 'errors')
  const { title, text, code } = describeError(error)
  return (
    <Alert color="red" title={title} role="alert" withCloseButton={onClose !== undefined} onClose={onClose} closeButtonLabel={t('error.dismiss')}>
      <Text size="sm">{text}</Text>
      <Text size="xs" c="dimmed" mt={4}>
        {t('error.codeForSupport')} <Code>{code}</Code>
      </Text>
    </Alert>
  )
}
