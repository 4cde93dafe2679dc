import type { Element } from '@xmldom/xmldom'
import { childElements, parseXml } from '../../src-main/platform'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, multipartSegments, SOAP_ENV_NS } from '../../src-main/soap'

/**
 * The sample service's SOAP side (issue 12 item 5): one document/literal operation `echo` (version `v1`) at
 * `POST /soap`, described by the WSDL at `GET /soap?wsdl`, and an OpenAPI 3 description of the REST side's
 * `GET /pets/{id}` at `GET /openapi.yaml`. The operation answers `echoResponse` whose `echo` element holds the text of
 * the request's first child element of `echo`; the X-Road header comes back as it was sent (PR-MESS §2.3: the service
 * returns the request's header fields), and every attachment the request carried comes back too, in order, with its
 * MIME headers — plain text/xml, SOAP with attachments (multipart/related) and MTOM (the root part application/xop+xml)
 * are all answered in the shape they came in.
 */
export const SOAP_OPERATION = 'echo'
export const SOAP_OPERATION_VERSION = 'v1'
export const SOAP_NAMESPACE = 'http://gatehouse.example/sample/echo'
export const SOAP_PATH = '/soap'
export const OPENAPI_PATH = '/openapi.yaml'

const X_ROAD_HEADER_PARTS = ['client', 'service', 'userId', 'id', 'protocolVersion']

/** WSDL 1.1 with X-Road's header parts and `xrd:version` on the binding operation (as X-Road's own example services). */
export function sampleWsdl(serviceUrl: string): string {
  const bodyAndHeaders = ['        <soap:body parts="body" use="literal"/>']
    .concat(X_ROAD_HEADER_PARTS.map((part) => `        <soap:header message="tns:requestheader" part="${part}" use="literal"/>`))
    .join('\n')
  return `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="sampleEcho" targetNamespace="${SOAP_NAMESPACE}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:tns="${SOAP_NAMESPACE}">
  <wsdl:types>
    <xsd:schema elementFormDefault="qualified" targetNamespace="${SOAP_NAMESPACE}">
      <xsd:import namespace="http://x-road.eu/xsd/xroad.xsd" schemaLocation="http://x-road.eu/xsd/xroad.xsd"/>
      <xsd:element name="${SOAP_OPERATION}">
        <xsd:complexType><xsd:sequence><xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="${SOAP_OPERATION}Response">
        <xsd:complexType><xsd:sequence><xsd:element name="echo" type="xsd:string"/></xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="requestheader">
    <wsdl:part name="client" element="xrd:client"/>
    <wsdl:part name="service" element="xrd:service"/>
    <wsdl:part name="userId" element="xrd:userId"/>
    <wsdl:part name="id" element="xrd:id"/>
    <wsdl:part name="protocolVersion" element="xrd:protocolVersion"/>
  </wsdl:message>
  <wsdl:message name="${SOAP_OPERATION}"><wsdl:part name="body" element="tns:${SOAP_OPERATION}"/></wsdl:message>
  <wsdl:message name="${SOAP_OPERATION}Response"><wsdl:part name="body" element="tns:${SOAP_OPERATION}Response"/></wsdl:message>
  <wsdl:portType name="sampleEchoPortType">
    <wsdl:operation name="${SOAP_OPERATION}">
      <wsdl:documentation><xrd:title>Echo the request's text</xrd:title></wsdl:documentation>
      <wsdl:input message="tns:${SOAP_OPERATION}"/>
      <wsdl:output message="tns:${SOAP_OPERATION}Response"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="sampleEchoBinding" type="tns:sampleEchoPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="${SOAP_OPERATION}">
      <soap:operation soapAction="" style="document"/>
      <xrd:version>${SOAP_OPERATION_VERSION}</xrd:version>
      <wsdl:input>
${bodyAndHeaders}
      </wsdl:input>
      <wsdl:output>
${bodyAndHeaders}
      </wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="sampleEchoService">
    <wsdl:port name="sampleEchoPort" binding="tns:sampleEchoBinding">
      <soap:address location="${serviceUrl}${SOAP_PATH}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`
}

/** OpenAPI 3 of the REST side: `GET /pets/{id}` under the service's base URL. */
export function sampleOpenApi(baseUrl: string): string {
  return `openapi: "3.0.3"
info:
  title: Sample pets
  version: "1.0.0"
servers:
  - url: ${baseUrl}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: integer
      responses:
        "200":
          description: The pet
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: { type: integer }
                  name: { type: string }
                  species: { type: string }
                  vaccinated: { type: boolean }
        "404":
          description: No such pet
`
}

export interface SoapAnswer {
  status: number
  contentType: string
  body: Buffer
}

/**
 * The answer to one `POST /soap`: `echoResponse` (or a SOAP fault `Client` for a request that is not SOAP or not the
 * `echo` operation), in the request's charset and shape.
 */
export function answerSoap(contentType: string, body: Buffer): SoapAnswer {
  let decoded
  try {
    decoded = decodeSoapMessage(contentType, body, splitMultipart)
  } catch (error) {
    return soapFault('Client', `Not a SOAP request: ${(error as Error).message}`)
  }
  const soap = decoded.soap
  if (soap.kind !== 'message') return soapFault('Client', 'A fault is not a request')
  if (soap.serviceName !== SOAP_OPERATION) return soapFault('Client', `Unknown operation ${soap.serviceName}`)
  const encoding = soap.charset === 'UTF-8' ? 'utf8' : 'latin1'
  const text = soap.bytes.toString(encoding)
  const envelope = parseXml(soap.bytes).documentElement as Element
  const bodyElement = childElements(envelope, SOAP_ENV_NS, 'Body')[0]
  const operation = bodyElement === undefined ? undefined : childElements(bodyElement)[0]
  const first = operation === undefined ? undefined : childElements(operation)[0]
  const echoed = escapeXml(first?.textContent ?? '')
  // The envelope and header as they came; only the body's content is the answer's own.
  const bodyOpen = /<((?:[\w.-]+:)?)Body(?:\s[^>]*)?>/.exec(text)
  const bodyClose = bodyOpen === null ? -1 : text.lastIndexOf(`</${bodyOpen[1] ?? ''}Body>`)
  if (bodyOpen === null || bodyClose < 0) return soapFault('Client', 'The request has no SOAP body')
  const start = bodyOpen.index + bodyOpen[0].length
  const answerText = `${text.slice(0, start)}<s:${SOAP_OPERATION}Response xmlns:s="${SOAP_NAMESPACE}"><s:echo>${echoed}</s:echo></s:${SOAP_OPERATION}Response>${text.slice(bodyClose)}`
  const answer = Buffer.from(answerText, encoding)
  if (decoded.soapPartHeaders === undefined) return { status: 200, contentType: `text/xml; charset=${soap.charset}`, body: answer }
  const boundary = `sample-${Date.now().toString(36)}`
  const root = decoded.soapPartHeaders.filter(([name]) => name.toLowerCase() !== 'content-length')
  const parts = [
    { contentType: soap.contentType, headers: root, body: answer },
    ...decoded.attachments.map((a) => ({ contentType: a.contentType, headers: a.headers.filter(([name]) => name.toLowerCase() !== 'content-length'), body: a.body })),
  ]
  const mtom = soap.contentType.toLowerCase().startsWith('application/xop+xml')
  const type = mtom ? 'type="application/xop+xml"; start-info="text/xml"' : 'type="text/xml"'
  const start0 = root.find(([name]) => name.toLowerCase() === 'content-id')?.[1]
  return {
    status: 200,
    contentType: `multipart/related; ${type};${start0 === undefined ? '' : ` start="${start0}";`} boundary=${boundary}`,
    body: Buffer.concat(multipartSegments<Buffer>(boundary, parts)),
  }
}

function soapFault(code: string, message: string): SoapAnswer {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV_NS}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
    `<faultcode>SOAP-ENV:${code}</faultcode><faultstring>${escapeXml(message)}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  return { status: 500, contentType: 'text/xml; charset=UTF-8', body: Buffer.from(xml, 'utf8') }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
