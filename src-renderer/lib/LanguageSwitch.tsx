import { Select } from '@mantine/core'
import { LANGUAGES, currentLanguage, setLanguage, useT, type LanguageCode } from '../i18n'

/** The language of the GUI, remembered in this browser or desktop profile. */
export function LanguageSwitch({ size = 'xs' }: { size?: 'xs' | 'sm' }) {
  const t = useT()
  return (
    <Select
      size={size}
      w={190}
      aria-label={t('language.label')}
      data={LANGUAGES.map((l) => ({ value: l.code, label: l.name }))}
      value={currentLanguage()}
      allowDeselect={false}
      comboboxProps={{ withinPortal: true }}
      onChange={(value) => {
        if (value !== null) void setLanguage(value as LanguageCode)
      }}
    />
  )
}
