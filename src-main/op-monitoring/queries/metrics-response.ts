import { describeIdentifier, type SecurityServerId } from '@shared/domain/identifiers'
import type { Metric } from './environment-monitor'
import { MONITORING_NS } from './monitoring-services'

/**
 * The answer to `getSecurityServerMetrics` (PR-ENVMONMES §2.2; monitoring.xsd): one `metricSet` named after the
 * security server (`SERVER:instance/class/member/code`), holding the `proxyVersion` string metric and the
 * `systemMetrics` set (`ProxyMonitorServiceHandlerImpl.startHandling`).
 */
function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** xs:decimal has no exponent: numbers JavaScript would print with one are written out in full. */
export function xsDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError('a metric value must be finite')
  if (Number.isInteger(value)) return BigInt(value).toString()
  const text = String(value)
  if (!text.includes('e')) return text
  return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '')
}

function metricXml(metric: Metric): string {
  const name = `<m:name>${escapeText(metric.name)}</m:name>`
  switch (metric.kind) {
    case 'numeric':
      return `<m:numericMetric>${name}<m:value>${xsDecimal(metric.value)}</m:value></m:numericMetric>`
    case 'string':
      return `<m:stringMetric>${name}<m:value>${escapeText(metric.value)}</m:value></m:stringMetric>`
    case 'histogram':
      return (
        `<m:histogramMetric>${name}<m:updated>${metric.updated.toISOString()}</m:updated>` +
        `<m:min>${xsDecimal(metric.min)}</m:min><m:max>${xsDecimal(metric.max)}</m:max><m:mean>${xsDecimal(metric.mean)}</m:mean>` +
        `<m:median>${xsDecimal(metric.median)}</m:median><m:stddev>${xsDecimal(metric.stdDev)}</m:stddev></m:histogramMetric>`
      )
    case 'set':
      return `<m:metricSet>${name}${metric.metrics.map(metricXml).join('')}</m:metricSet>`
  }
}

export function metricsResponseXml(server: SecurityServerId, proxyVersion: string, systemMetrics: Metric): string {
  const root: Metric = {
    kind: 'set',
    name: describeIdentifier(server),
    metrics: [{ kind: 'string', name: 'proxyVersion', value: proxyVersion }, systemMetrics],
  }
  return `<m:getSecurityServerMetricsResponse xmlns:m="${MONITORING_NS}">${metricXml(root)}</m:getSecurityServerMetricsResponse>`
}
