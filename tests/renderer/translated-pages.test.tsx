// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, render, screen, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  AuditLogEntry, CeremonyEntryInfo, CeremonyReason, CeremonyTranscriptView, DiagnosticCheck, Diagnostics,
} from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage, type LanguageCode } from '../../src-renderer/i18n'
import { CeremonyPage } from '../../src-renderer/features/ceremony/CeremonyPage'
import { initialCeremony, useCeremonyStore } from '../../src-renderer/features/ceremony/ceremony-store'
import { DiagnosticsPage } from '../../src-renderer/features/diagnostics/DiagnosticsPage'
import { trafficRows, useDiagnosticsStore } from '../../src-renderer/features/diagnostics/diagnostics-store'
import { AuditLogPage } from '../../src-renderer/features/audit-log/AuditLogPage'

/**
 * The key ceremony, diagnostics and audit log pages in Brazilian Portuguese and Spanish: the screens' own words, and
 * the server's refusals, warnings and check results worded from their codes and parameters (the server's English
 * text appears only for a code the screen does not know).
 */
function client(answers: Record<string, unknown>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const call = vi.fn(async (domain: string, method: string): Promise<unknown> => {
    const key = `${domain}.${method}`
    if (!(key in answers)) throw new AdminError('not_found', `unexpected ${key}`)
    return answers[key]
  })
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

const page = (node: React.ReactNode) => render(<MantineProvider>{node}</MantineProvider>)

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  useCeremonyStore.setState(initialCeremony)
  useDiagnosticsStore.setState({ result: null, windowMinutes: 60, loading: false, error: null })
  await setLanguage('en')
})

// ---- diagnostics ---------------------------------------------------------------------------------------------

const check = (key: DiagnosticCheck['key'], light: DiagnosticCheck['light'], code: DiagnosticCheck['code'], params: DiagnosticCheck['params']): DiagnosticCheck =>
  ({ key, label: `English ${key}`, light, code, params, explanation: `English explanation of ${code}` })

const DIAGNOSTICS: Diagnostics = {
  checkedAt: '2026-03-01T12:00:00.000Z',
  checks: [
    check('global-conf', 'yellow', 'global-conf-download-failed', { error: 'connection refused', expiresInSeconds: 300 }),
    check('tokens', 'yellow', 'tokens-logged-out', { tokens: 'softToken', count: 1 }),
    check('certificates', 'yellow', 'certificates-attention', { daysLeft: 12, count: 1 }),
    check('timestamping', 'yellow', 'timestamping-failing', { backlog: 3, backlogCapped: false, secondsLeft: 600, error: 'tsa down' }),
    check('traffic', 'red', 'traffic-failures', { succeeded: 7, failed: 3, count: 10, windowSeconds: 3600 }),
  ],
  tokens: [{ id: '0', label: 'softToken', state: 'logged-out' }],
  certificates: [{ id: 'c1', subject: 'C=LAB, O=Agency, CN=1234', usage: 'sign', state: 'active', daysLeft: 12, ocsp: 'unknown', light: 'yellow' }],
  // The chart itself needs a laid-out page (the Chromium screenshots show it); here its empty state speaks the language.
  traffic: { bucketSeconds: 120, points: [], succeeded: 7, failed: 3 },
}

const DIAGNOSTICS_TEXTS: Record<Exclude<LanguageCode, 'en'>, { heading: string; texts: string[]; cells: string[]; periods: string[]; chart: string }> = {
  'pt-BR': {
    heading: 'Diagnóstico',
    texts: [
      'O último download falhou (connection refused); a cópia anterior ainda é válida. Ela expira em 5 minutos.',
      'O token softToken está desconectado: faça o login com o PIN na página Chaves e certificados para que as mensagens possam ser assinadas.',
      'Um certificado ativo precisa de atenção: o primeiro expira em 12 dias, ou seu status OCSP não é bom. Renove-o ou verifique o respondedor OCSP.',
      'A carimbagem de tempo está falhando (último erro: tsa down). 3 mensagens aguardam carimbo de tempo. Se continuar falhando, o tráfego para em 10 minutos. Nenhum carimbo de tempo foi obtido ainda.',
      '10 mensagens no período analisado (1 hora): 7 com sucesso e 3 com falha; veja os dados de monitoramento operacional para saber por quê.',
    ],
    cells: ['assinatura', 'ativo', 'desconhecido pela AC', '12 dias'],
    periods: ['1 hora', '6 horas', '24 horas'],
    chart: 'Nenhuma mensagem neste período.',
  },
  es: {
    heading: 'Diagnóstico',
    texts: [
      'La última descarga falló (connection refused); la copia anterior sigue siendo válida. Vence en 5 minutos.',
      'El token softToken no tiene la sesión iniciada: inicie sesión con su PIN en la página Claves y certificados para que se puedan firmar los mensajes.',
      'Un certificado activo requiere atención: el primero vence en 12 días, o su estado OCSP no es bueno. Renuévelo o revise el respondedor OCSP.',
      'El sellado de tiempo está fallando (último error: tsa down). 3 mensajes esperan su marca de tiempo. Si sigue fallando, el tráfico se detiene en 10 minutos. Todavía no se obtuvo ninguna marca de tiempo.',
      '10 mensajes en el período analizado (1 hora): 7 con éxito y 3 con falla; vea los datos de monitoreo operativo para saber por qué.',
    ],
    cells: ['firma', 'activo', 'desconocido para la AC', '12 días'],
    periods: ['1 hora', '6 horas', '24 horas'],
    chart: 'No hubo mensajes en este período.',
  },
}

describe('diagnostics page in other languages', () => {
  for (const [language, expected] of Object.entries(DIAGNOSTICS_TEXTS)) {
    it(`words every check from its code and parameters in ${language}`, async () => {
      await setLanguage(language as LanguageCode)
      setAdminClient(client({ 'diagnostics.run': DIAGNOSTICS }))
      page(<DiagnosticsPage />)
      expect(await screen.findByRole('heading', { name: expected.heading, level: 2 })).toBeTruthy()
      const checks = screen.getByTestId('diagnostic-checks')
      await within(checks).findByText(expected.texts[0] as string)
      for (const text of expected.texts) expect(within(checks).getByText(text)).toBeTruthy()
      expect(within(checks).queryByText(/English/)).toBeNull()
      const table = screen.getByRole('table')
      for (const cell of expected.cells) expect(within(table).getByText(cell)).toBeTruthy()
      for (const period of expected.periods) expect(screen.getByText(period)).toBeTruthy()
      expect(screen.getByText(expected.chart)).toBeTruthy()
    })
  }

  it('charts quiet intervals as zeros up to the time of the check', () => {
    const at = (time: string) => Date.parse(`2026-03-01T${time}:00.000Z`)
    const traffic = { bucketSeconds: 120, succeeded: 5, failed: 1, points: [{ at: '2026-03-01T11:00:00.000Z', succeeded: 2, failed: 1 }, { at: '2026-03-01T11:06:00.000Z', succeeded: 3, failed: 0 }] }
    expect(trafficRows({ ...DIAGNOSTICS, checkedAt: '2026-03-01T11:09:30.000Z', traffic })).toEqual([
      { at: at('11:00'), succeeded: 2, failed: 1 }, { at: at('11:02'), succeeded: 0, failed: 0 }, { at: at('11:04'), succeeded: 0, failed: 0 },
      { at: at('11:06'), succeeded: 3, failed: 0 }, { at: at('11:08'), succeeded: 0, failed: 0 },
    ])
    expect(trafficRows({ ...DIAGNOSTICS, traffic: { ...traffic, points: [] } })).toEqual([])
  })

  it('keeps the server English explanation for a code it does not know', async () => {
    await setLanguage('es')
    const unknown = check('traffic', 'gray', 'traffic-someday' as DiagnosticCheck['code'], {})
    setAdminClient(client({ 'diagnostics.run': { ...DIAGNOSTICS, checks: [unknown] } }))
    page(<DiagnosticsPage />)
    expect(await screen.findByText('English explanation of traffic-someday')).toBeTruthy()
    expect(screen.getByText('Intercambio de mensajes')).toBeTruthy()
  })
})

// ---- key ceremony --------------------------------------------------------------------------------------------

const ID = '1b2c3d4e-0000-4000-8000-000000000001'
const TOKEN = { label: 'ceremony-token', serialNumber: 'abc', modulePath: '/usr/lib/softhsm/libsofthsm2.so' }
const TWICE: CeremonyReason = { text: 'Carl Custodian confirmed twice; a second, different person must confirm', code: 'confirmed-twice', params: { person: 'Carl Custodian' } }

function entry(seq: number, step: string, outcome: CeremonyEntryInfo['outcome'] = 'done', reason: CeremonyReason | null = null, details: Record<string, unknown> = {}): CeremonyEntryInfo {
  return {
    seq, at: '2026-01-01T10:00:00.000Z', step, title: `Recorded English title of ${step}`, outcome, actor: 'ada-admin', confirmedBy: [],
    details: reason === null ? details : { ...details, reason: reason.text }, reason, artifacts: [], hash: `h${seq}`,
  }
}

function keyStepView(): CeremonyTranscriptView {
  const entries = [entry(1, 'check-offline', 'warning'), entry(2, 'identify-token'), entry(3, 'login'), entry(4, 'generate-key', 'refused', TWICE, { usage: 'sign' })]
  return {
    ceremony: {
      id: ID, title: 'Chave de assinatura', kind: 'key', startedAt: '2026-01-01T09:00:00.000Z', steps: 4, refusals: 1,
      participants: [
        { id: 'ada-admin', name: 'Ada Admin', role: 'administrator' }, { id: 'carl-custodian', name: 'Carl Custodian', role: 'custodian' },
        { id: 'cleo-custodian', name: 'Cleo Custodian', role: 'custodian' }, { id: 'wes-witness', name: 'Wes Witness', role: 'witness' },
      ],
      progress: { offlineChecked: true, token: TOKEN, loggedIn: true, key: null, csr: null, certificate: null, sealed: false },
    },
    entries,
    seal: null,
    verification: { valid: false, problems: ['the transcript is not sealed'], findings: [{ code: 'not-sealed', params: {} }], sealed: false, sealFingerprint: null },
    file: { fileName: `transcript-${ID}.json`, mimeType: 'application/json', content: '{}', encoding: 'utf8' },
  }
}

const CEREMONY_TEXTS = {
  'pt-BR': {
    step: 'Passo 5 de 8: Gerar o par de chaves', dual: 'Duas pessoas confirmam', refused: 'Recusado',
    reason: 'Carl Custodian confirmou duas vezes; uma segunda pessoa, diferente, deve confirmar.', recorded: /registrada na ata como passo 4/,
    passphrase: 'Frase secreta da primeira pessoa', option: 'Carl Custodian (custodiante de chave)', verdict: 'Não verificada: ainda não selada',
    entries: ['Verificar que a máquina está desconectada da rede: há interfaces de rede ativas', 'Gerar o par de chaves de assinatura no token'],
    outcome: 'recusado', warning: 'alerta', trail: '5. Chave', timeline: 'Passos registrados',
    module: 'Os módulos PKCS#11 só são carregados de pastas de bibliotecas do sistema (/usr/lib, /opt); /tmp/libx.so está em outro lugar.',
    retry: /Corrija os dados e tente novamente/,
  },
  es: {
    step: 'Paso 5 de 8: Generar el par de claves', dual: 'Confirman dos personas', refused: 'Rechazado',
    reason: 'Carl Custodian confirmó dos veces; debe confirmar una segunda persona, distinta.', recorded: /asentado en el acta como paso 4/,
    passphrase: 'Frase secreta de la primera persona', option: 'Carl Custodian (custodio de claves)', verdict: 'Sin verificar: todavía no está sellada',
    entries: ['Verificar que el equipo está sin conexión: hay interfaces de red activas', 'Generar el par de claves de firma en el token'],
    outcome: 'rechazado', warning: 'advertencia', trail: '5. Clave', timeline: 'Pasos asentados',
    module: 'Los módulos PKCS#11 solo se cargan desde carpetas de bibliotecas del sistema (/usr/lib, /opt); /tmp/libx.so está en otro lugar.',
    retry: /Corrija los datos e intente de nuevo/,
  },
} as const

describe('key ceremony page in other languages', () => {
  for (const [language, expected] of Object.entries(CEREMONY_TEXTS)) {
    it(`shows the step, dual control, the recorded refusal and the transcript in ${language}`, async () => {
      await setLanguage(language as LanguageCode)
      const view = keyStepView()
      setAdminClient(client({ 'ceremony.list': [view.ceremony], 'ceremony.transcript': view }))
      useCeremonyStore.setState({ view, refusal: new AdminError('server.ceremony_step_refused', TWICE.text, 'confirmed-twice', TWICE.params) })
      page(<CeremonyPage />)
      expect(screen.getByRole('heading', { name: expected.step })).toBeTruthy()
      expect(screen.getByText(expected.dual)).toBeTruthy()
      expect(screen.getByText(expected.trail)).toBeTruthy()
      const alert = screen.getByRole('alert')
      expect(within(alert).getByText(expected.refused)).toBeTruthy()
      expect(within(alert).getByText(expected.reason)).toBeTruthy()
      expect(within(alert).getByText(expected.recorded)).toBeTruthy()
      expect((screen.getByLabelText(expected.passphrase) as HTMLInputElement).type).toBe('password')
      expect(screen.getAllByRole('option', { name: expected.option })).toHaveLength(2)
      expect(screen.getByTestId('transcript-verdict').textContent).toBe(expected.verdict)
      const timeline = screen.getByRole('region', { name: expected.timeline })
      for (const title of expected.entries) expect(within(timeline).getByText(title)).toBeTruthy()
      expect(within(timeline).getByText(expected.reason)).toBeTruthy()
      expect(within(timeline).getByText(expected.outcome)).toBeTruthy()
      expect(within(timeline).getByText(expected.warning)).toBeTruthy()
      expect(screen.queryByText(/Recorded English title/)).toBeNull()
      // Evidence times stay in the one UTC format, whatever the language.
      expect(within(timeline).getAllByText(/2026-01-01 10:00:00 UTC/)).toHaveLength(4)
    })

    it(`words a refusal that was not recorded from the error's reason code and parameters in ${language}`, async () => {
      await setLanguage(language as LanguageCode)
      const view = keyStepView()
      setAdminClient(client({ 'ceremony.list': [view.ceremony], 'ceremony.transcript': view }))
      const refusal = new AdminError('server.validation_failed', 'PKCS#11 modules are loaded only from system library folders (/usr/lib, /opt); /tmp/libx.so is elsewhere',
        'module-outside-system', { path: '/tmp/libx.so', folders: '/usr/lib, /opt' })
      useCeremonyStore.setState({ view: { ...view, entries: view.entries.slice(0, 3) }, refusal })
      page(<CeremonyPage />)
      const alert = screen.getByRole('alert')
      expect(within(alert).getByText(expected.module)).toBeTruthy()
      expect(within(alert).getByText(expected.retry)).toBeTruthy()
    })
  }

  it('shows a sealed ceremony with its downloads in Spanish', async () => {
    await setLanguage('es')
    const view = keyStepView()
    const sealed: CeremonyTranscriptView = {
      ...view,
      ceremony: { ...view.ceremony, progress: { ...view.ceremony.progress, sealed: true } },
      seal: {
        algorithm: 'ECDSA-SHA256', keyLocation: 'software (this machine)', publicKeyFingerprint: 'cd'.repeat(32), sealedAt: '2026-01-01T11:00:00.000Z', keyOn: { kind: 'software' },
      },
      verification: { valid: true, problems: [], findings: [], sealed: true, sealFingerprint: 'cd'.repeat(32) },
    }
    setAdminClient(client({ 'ceremony.list': [sealed.ceremony] }))
    useCeremonyStore.setState({ view: sealed })
    page(<CeremonyPage />)
    expect(screen.getByRole('heading', { name: 'Ceremonia terminada' })).toBeTruthy()
    expect(screen.getByTestId('transcript-verdict').textContent).toBe('Verificada')
    expect(screen.getByRole('button', { name: 'Descargar el informe (HTML)' })).toBeTruthy()
    expect(screen.getByText('Acta sellada')).toBeTruthy()
    expect(screen.getByText('No se importó en esta ceremonia')).toBeTruthy()
    expect(screen.getByText('una clave de software en este equipo')).toBeTruthy()
  })
})

// ---- audit log -----------------------------------------------------------------------------------------------

describe('audit log page in other languages', () => {
  it('labels the search and the outcomes in Brazilian Portuguese, with evidence times in UTC', async () => {
    await setLanguage('pt-BR')
    const entries: AuditLogEntry[] = [
      { id: 2, at: '2026-03-01T12:00:00.000Z', actor: 'admin', event: 'tokens.login', outcome: 'failure', errorCode: 'signer.pin_incorrect', data: {}, object: '0', hash: 'a'.repeat(64) },
      { id: 1, at: '2026-03-01T11:00:00.000Z', actor: 'admin', event: 'session.setup', outcome: 'success', errorCode: null, data: {}, object: null, hash: 'b'.repeat(64) },
    ]
    setAdminClient(client({ 'audit.search': entries }))
    page(<AuditLogPage />)
    const table = screen.getByRole('table', { name: 'Entradas do log de auditoria' })
    expect(await within(table).findByText('Falha')).toBeTruthy()
    expect(within(table).getByText('Sucesso')).toBeTruthy()
    expect(within(table).getByText('2026-03-01 12:00:00 UTC')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Pesquisar' })).toBeTruthy()
    expect(screen.getByText('2 entradas exibidas, as mais recentes primeiro.')).toBeTruthy()
  })
})
