// Architecture boundaries of Gatehouse (../shared/DESIGN.md "The shape"), checked on every import:
// - `electron` only under src-main/desktop; `pkcs11js` only under src-main/signer/pkcs11;
// - src-shared imports nothing from main, renderer, Node built-ins or UI libraries;
// - a src-main folder reaches another src-main folder only through its index;
// - the renderer never imports src-main, and src-main never imports the renderer.
import { builtinModules } from 'node:module'
import { dirname, relative, resolve, sep } from 'node:path'

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..')
const NODE_BUILTINS = new Set(builtinModules)
const UI_LIBRARIES = /^(react|react-dom|zustand|@mantine\/|recharts|electron)(\/|$)/

function repoPath(file) {
  return relative(ROOT, file).split(sep).join('/')
}

function resolveImport(fromFile, source) {
  if (source.startsWith('.')) return repoPath(resolve(dirname(fromFile), source))
  if (source.startsWith('@shared/') || source === '@shared') return `src-shared${source.slice('@shared'.length)}`
  return undefined
}

function isNodeBuiltin(source) {
  return source.startsWith('node:') || NODE_BUILTINS.has(source.split('/')[0])
}

function checkImport(context, node, source) {
  const file = repoPath(context.filename)
  const report = (message) => context.report({ node, message })
  const bare = source.split('/')[0]
  if (source === 'electron' || source.startsWith('electron/')) {
    if (!file.startsWith('src-main/desktop/')) report(`'electron' may be imported only under src-main/desktop (found in ${file})`)
  }
  if (bare === 'pkcs11js' && !file.startsWith('src-main/signer/pkcs11/')) {
    report(`'pkcs11js' may be imported only in the PKCS#11 driver folder src-main/signer/pkcs11 (found in ${file})`)
  }
  const target = resolveImport(context.filename, source)
  if (file.startsWith('src-shared/')) {
    if (isNodeBuiltin(source)) report(`src-shared must not import Node built-ins ('${source}')`)
    if (UI_LIBRARIES.test(source)) report(`src-shared must not import UI or desktop libraries ('${source}')`)
    if (target !== undefined && !target.startsWith('src-shared')) report(`src-shared must not import from ${target.split('/')[0]}`)
  }
  if (file.startsWith('src-renderer/')) {
    if (target?.startsWith('src-main')) report('the renderer must not import src-main; use the admin API in src-shared')
    if (isNodeBuiltin(source)) report(`the renderer must not import Node built-ins ('${source}')`)
  }
  if (file.startsWith('src-main/') && target !== undefined) {
    if (target.startsWith('src-renderer')) report('src-main must not import the renderer')
    const fromFolder = file.split('/')[1]
    const parts = target.split('/')
    if (parts[0] === 'src-main' && parts.length > 2 && parts[1] !== fromFolder) {
      const inner = parts.slice(2).join('/')
      if (inner !== 'index' && inner !== 'index.ts') {
        report(`import src-main/${parts[1]} through its index ('${source}' reaches into its internals)`)
      }
    }
  }
}

const boundaries = {
  meta: { type: 'problem', docs: { description: 'Gatehouse architecture boundaries' }, schema: [] },
  create(context) {
    const visit = (node) => {
      if (node.source && typeof node.source.value === 'string') checkImport(context, node, node.source.value)
    }
    return {
      ImportDeclaration: visit,
      ExportNamedDeclaration: visit,
      ExportAllDeclaration: visit,
      ImportExpression(node) {
        if (node.source.type === 'Literal' && typeof node.source.value === 'string') checkImport(context, node, node.source.value)
      },
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          checkImport(context, node, String(node.arguments[0].value))
        }
      },
    }
  },
}

export default { rules: { boundaries } }
