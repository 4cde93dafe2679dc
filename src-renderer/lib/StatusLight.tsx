import { Badge } from '@mantine/core'
import type { StatusLight as Light } from '@shared/admin-api/admin-api'
import { useT } from '../i18n'

/** A coloured status badge that also says its meaning in words (colour is never the only signal). */
export function StatusLight({ light, text }: { light: Light; text?: string }) {
  const t = useT()
  return (
    <Badge
      color={light}
      variant="light"
      size="lg"
      styles={{ root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } }}
      leftSection={<span aria-hidden style={{ display: 'block', width: 8, height: 8, borderRadius: 4, background: `var(--mantine-color-${light}-6)` }} />}
    >
      {text ?? t(`light.${light}`)}
    </Badge>
  )
}
