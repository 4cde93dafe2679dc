import { ADMIN_API_METHODS, type AdminDomain } from '@shared/admin-api/admin-api-methods'
import { API_KEY_SCHEME, CSRF_HEADER } from '@shared/admin-api/session'

/**
 * The OpenAPI 3.1 description of the headless admin API, served at `/api/openapi.json`, generated from the
 * allow-list so it cannot drift from what the server routes.
 */
const errorResponse = { description: 'IpcResult with ok=false', content: { 'application/json': { schema: { $ref: '#/components/schemas/Failure' } } } }

/** `cookieName`: this server's session cookie (`sessionCookieName`). */
export function adminOpenApi(version: string, cookieName: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/api/session': {
      get: { summary: 'Who is signed in, the CSRF token, and whether first-run setup is needed', security: [], responses: { 200: { description: 'SessionInfo' } } },
    },
    '/api/session/login': {
      post: {
        summary: 'Sign in with a user name and password; sets the session cookie',
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Credentials' } } } },
        responses: { 200: { description: 'SessionInfo' }, 401: errorResponse, 429: errorResponse },
      },
    },
    '/api/session/setup': {
      post: {
        summary: 'First run only, from loopback only: create the first administrator and sign in',
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Credentials' } } } },
        responses: { 200: { description: 'SessionInfo' }, 403: errorResponse, 409: errorResponse },
      },
    },
    '/api/session/logout': { post: { summary: 'End the session', security: [{ session: [], csrf: [] }], responses: { 200: { description: 'ok' } } } },
  }
  for (const domain of Object.keys(ADMIN_API_METHODS) as AdminDomain[]) {
    for (const [method, policy] of Object.entries(ADMIN_API_METHODS[domain])) {
      paths[`/api/${domain}/${method}`] = {
        post: {
          operationId: `${domain}.${method}`,
          tags: [domain],
          summary: `${domain}.${method} (roles: ${policy.roles.join(', ')})`,
          'x-roles': policy.roles,
          'x-audited': policy.audit,
          security: [{ session: [], csrf: [] }, { apiKey: [] }],
          requestBody: { content: { 'application/json': { schema: { type: 'array', description: 'The method arguments, in order' } } } },
          responses: {
            200: {
              description: 'IpcResult with ok=true',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/Success' } },
                // The one streamed download: the evidence ZIP itself when the request accepts application/zip.
                ...(`${domain}.${method}` === 'messageLog.exportZip' ? { 'application/zip': { schema: { type: 'string', format: 'binary' } } } : {}),
              },
            },
            400: errorResponse,
            401: errorResponse,
            403: errorResponse,
            404: errorResponse,
          },
        },
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse admin API', version, description: 'The same methods the desktop app reaches over IPC.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: cookieName },
        csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER },
        apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: `${API_KEY_SCHEME} token=<key>` },
      },
      schemas: {
        Credentials: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' } } },
        Success: { type: 'object', required: ['ok', 'value'], properties: { ok: { const: true }, value: {} } },
        Failure: {
          type: 'object',
          required: ['ok', 'error'],
          properties: {
            ok: { const: false },
            error: { type: 'object', required: ['code', 'message'], properties: {
              code: { type: 'string' }, message: { type: 'string' }, detail: { type: 'string' },
              params: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
            } },
          },
        },
      },
    },
  }
}
