/**
 * Alerts: what needs the operator before traffic stops (certificate expiry, OCSP, time-stamping, global configuration,
 * tokens, disk, readiness), raised and cleared from the server's state, acknowledged, and delivered outside (webhook, syslog).
 */
export { alertsMigrations } from './migrations'
export { evaluateAlerts, type AlertCandidate, type AlertSnapshot } from './alert-rules'
export { createAlertCenter, DEFAULT_ALERT_SETTINGS, type AlertCenter, type AlertCenterDeps, type AlertChange } from './alert-center'
export { postWebhook, webhookSignature, WEBHOOK_EVENT_HEADER, WEBHOOK_SIGNATURE_HEADER, type WebhookTarget } from './webhook-client'
export { formatSyslogMessage, sendSyslog, type SyslogMessage, type SyslogTarget } from './syslog-client'
