import { Badge } from '@mantine/core'
import type { StatusLight as Light } from '@shared/admin-api/admin-api'

export const LIGHT_WORDS: Record<Light, string> = { green: 'OK', yellow: 'Attention', red: 'Problem', gray: 'Not set up' }

/** A coloured status badge that also says its meaning in words (colour is never the only signal). */
export function StatusLight({ light, text }: { light: Light; text?: string }) {
  return (
    <Badge
      color={light}
      variant="light"
      size="lg"
      leftSection={<span aria-hidden style={{ display: 'block', width: 8, height: 8, borderRadius: 4, background: `var(--mantine-color-${light}-6)` }} />}
    >
      {text ?? LIGHT_WORDS[light]}
    </Badge>
  )
}
